"""Shared fixtures: a real database (SQLite file, and PostgreSQL when one is reachable), the library, the dialogue."""

from __future__ import annotations

import os
import uuid

import pytest

from bot.services.library import load
from bot.services.matcher import Matcher
from bot.storage.db import Database
from bot.storage.migrate import upgrade

PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _pg_reachable() -> str | None:
    """None when PostgreSQL answers, else why not (shown as the skip reason)."""
    try:
        import asyncpg
    except ImportError:
        return "asyncpg is not installed"
    try:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
        await conn.close()
    except Exception as e:
        return f"{type(e).__name__}: {e}"
    return None


_PG_PROBLEM: list[str | None] = []


async def pg_problem() -> str | None:
    """Probed once per test session."""
    if not _PG_PROBLEM:
        _PG_PROBLEM.append(await _pg_reachable())
    return _PG_PROBLEM[0]


async def _pg_admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request, tmp_path):
    """An empty database URL: an SQLite file, or a fresh PostgreSQL database dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
        return
    problem = await pg_problem()
    if problem:
        pytest.skip(f"NOTICE: PostgreSQL tests skipped, no server at {PG_ADMIN_URL} ({problem})")
    name = f"scorebot_t_{uuid.uuid4().hex[:12]}"
    await _pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def database(db_url):
    """A migrated database."""
    db = Database(db_url)
    await upgrade(db.engine)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
def library():
    return load()


@pytest.fixture(scope="session")
def matcher(library):
    return Matcher(library.practices, library.area_words)
