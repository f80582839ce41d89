"""Typed settings, read once from the environment (and an optional .env file) and passed down."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///scorebot.db"


class MissingTokenError(RuntimeError):
    """`scorebot run` was started without BOT_TOKEN."""


class Settings(BaseSettings):
    """Everything the bot can be configured with; see README.md for each variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_file_base_url: str = "https://api.telegram.org/file/bot"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    bot_username: str | None = None  # for invite deep links; learnt from getMe when the bot runs

    # webhook mode: set WEBHOOK_URL to switch from polling
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443

    # outgoing rate limits (Telegram's documented ceilings by default)
    rate_overall_per_second: float = 30.0
    rate_group_per_minute: float = 20.0
    rate_max_retries: int = 3

    default_language: str = "en"
    reminder_days: int = Field(default=7, ge=1)
    log_level: str = "INFO"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return frozenset(int(p) for p in parts if p)
        return value

    @property
    def uses_default_sqlite(self) -> bool:
        """True for the embedded SQLite file the bot upgrades by itself on start."""
        return self.database_url.startswith("sqlite")

    def require_token(self) -> str:
        """The token, or a clear error when it is missing."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise MissingTokenError(
                "BOT_TOKEN is not set: create a bot with @BotFather in Telegram, then run "
                "`BOT_TOKEN=123456:ABC... scorebot run` (or try `scorebot console` with no Telegram at all)."
            )
        return self.bot_token.get_secret_value().strip()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()
