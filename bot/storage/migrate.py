"""Runs the Alembic migrations (`scorebot db upgrade`, and the bot's own start on embedded SQLite)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at the installed migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Brings the database's schema up to `revision`."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))

    def run(connection) -> None:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


def cmd_upgrade(args: argparse.Namespace) -> int:
    """`scorebot db upgrade`."""
    from bot.config import get_settings
    from bot.storage.db import make_engine

    url = get_settings().database_url

    async def go() -> None:
        engine = make_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(go())
    print(f"database is up to date ({_safe(url)})")
    return 0


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
