"""SCORE4Climate improvement-ideas assistant: a Telegram bot for workers' ideas and the team that reviews them."""

__version__ = "0.1.0"
