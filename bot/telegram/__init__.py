"""The python-telegram-bot adapter: updates in, dialogue replies out."""
