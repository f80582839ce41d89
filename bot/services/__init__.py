"""What the product does, independent of Telegram and of the database engine."""
