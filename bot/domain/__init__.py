"""Plain domain types: no Telegram, no SQL."""
