"""The offline console as the README's first command runs it: a real process on its own SQLite file, no Telegram."""

from __future__ import annotations

import os
import subprocess
import sys


def scorebot(tmp_path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_URL")}
    env["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'console.db'}"
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True, env=env, timeout=180
    )


def test_start_without_a_token_says_how_to_get_one_and_plays_the_spanish_demo(tmp_path):
    proc = scorebot(tmp_path, "start")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "@BotFather" in out and "BOT_TOKEN=" in out
    assert "Empresa de demostración SCORE4Climate" in out and "Producción" in out  # the enterprise speaks Spanish
    assert "Detectar y reparar fugas de aire comprimido" in out  # the practice the demo's problem calls for
    assert "Su idea N.º 1 fue enviada" in out and "Usted envió 1 idea" in out
    assert "Traceback" not in out + proc.stderr


def test_console_in_russian_on_a_russian_demo_enterprise_with_hostile_lines(tmp_path):
    lines = [
        "/new",
        "1",
        "1",
        "",
        "🙂🙂🙂",
        "\x01\x02",
        "кoмпрессор шипит всю ночь, воздух уходит",
        "#nonexistent",
        "/cancel",
    ]
    proc = scorebot(tmp_path, "console", "--lang", "ru", stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Демо-предприятие SCORE4Climate" in out and "Производство" in out and "Склад" in out
    assert "Production" not in out
    assert "(no such button)" in out  # a label that is no button: said, not a crash
    assert "Найти и устранить утечки сжатого воздуха" in out  # a Latin "o" inside a Russian word still matches
    assert "Traceback" not in out + proc.stderr
