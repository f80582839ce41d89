"""The `scorebot` command (also `python -m bot`): run the bot, the console, migrations and library tools."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.domain.enums import LANGS, Area


def _print_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


# --- kb ---------------------------------------------------------------------------------------------------------


def _kb_check(args: argparse.Namespace) -> int:
    """Validates the library; exit 1 listing every problem."""
    from bot.services.library import validate

    library, problems = validate(args.root)
    if problems:
        for p in problems:
            print(f"error: {p}", file=sys.stderr)
        print(f"kb check: {len(problems)} problem(s) found", file=sys.stderr)
        return 1
    s = library.stats()
    areas = ", ".join(f"{a} {n}" for a, n in s["by_area"].items())
    print(f"kb check: ok, library {s['version']}: {s['total']} practices in {', '.join(LANGS)} ({areas})")
    return 0


def _kb_stats(args: argparse.Namespace) -> int:
    """Prints counts per area, sector and language."""
    from bot.services.library import LibraryError, load

    try:
        s = load(args.root).stats()
    except LibraryError as e:
        print(f"error: the library does not pass `scorebot kb check`:\n{e}", file=sys.stderr)
        return 1
    if args.json:
        _print_json(s)
        return 0
    print(f"library {s['version']}: {s['total']} practices ({s['with_sourced_savings']} with sourced figures)")
    for title, key in (("by area", "by_area"), ("by sector", "by_sector"), ("by language", "by_language")):
        print(f"{title}:")
        for k, v in s[key].items():
            print(f"  {k:<16}{v:>5}")
    return 0


def _kb_list(args: argparse.Namespace) -> int:
    """Prints id and title of the practices, optionally of one area, in one language."""
    from bot.services.library import LibraryError, load

    try:
        library = load(args.root)
    except LibraryError as e:
        print(f"error: the library does not pass `scorebot kb check`:\n{e}", file=sys.stderr)
        return 1
    practices = library.by_area(args.area) if args.area else list(library.practices)
    for p in practices:
        print(f"{p.id:<40} {p.area.value:<10} {p.cost.value:<7} {p.text(args.lang).title}")
    return 0


def _kb_match(args: argparse.Namespace) -> int:
    """Matches text against the library: one TEXT, or JSON lines {"lang", "text"} on standard input."""
    from bot.services.matcher import get_matcher

    matcher = get_matcher(args.root)

    def rows(text: str, lang: str) -> list[dict]:
        return [m.as_dict(lang) for m in matcher.match(text, lang=lang, top=args.top, area=args.area)]

    if args.text:
        text = " ".join(args.text)
        results = rows(text, args.lang or "en")
        if args.json:
            _print_json(results)
        else:
            for r in results:
                print(f"{r['score']:6.1f}  {r['area']:<10} {r['id']:<40} {r['title']}")
        return 0
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item.get("text") if isinstance(item, dict) else None
            lang = (item.get("lang") if isinstance(item, dict) else None) or args.lang or "en"
        except json.JSONDecodeError:
            text, lang = None, "en"
        results = rows(text, lang) if isinstance(text, str) else []
        _print_json(results)
        sys.stdout.flush()
    return 0


def _kb_eval(args: argparse.Namespace) -> int:
    """Prints the matcher's accuracy on the evaluation set, per language."""
    from bot.services.evaluation import evaluate, format_report, load_cases

    report = evaluate(load_cases(args.cases), root=args.root)
    if args.json:
        _print_json(report)
    else:
        print(format_report(report))
    return 0


# --- argument parser ----------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    parser = argparse.ArgumentParser(prog="scorebot", description="SCORE4Climate improvement-ideas assistant")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("run", help="run the Telegram bot (needs BOT_TOKEN)").set_defaults(func=_lazy("bot.runner:cmd_run"))
    p = sub.add_parser("start", help="the bot if BOT_TOKEN is set, else an offline demo in this terminal")
    p.add_argument("--lang", choices=LANGS, help="language of the offline demo")
    p.set_defaults(func=_lazy("bot.runner:cmd_start"))
    p = sub.add_parser("console", help="play the conversation in this terminal, no Telegram needed")
    p.add_argument("--lang", choices=LANGS, help="language of the console user (default: the demo's)")
    p.add_argument("--user", type=int, default=1, help="a numeric id for the console user (default 1)")
    p.add_argument("--role", choices=("worker", "lead"), default="worker", help="join the demo enterprise as")
    p.set_defaults(func=_lazy("bot.console.app:cmd_console"))

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db.add_parser("upgrade", help="apply migrations up to the newest").set_defaults(
        func=_lazy("bot.storage.migrate:cmd_upgrade")
    )

    kb = sub.add_parser("kb", help="the good-practice library").add_subparsers(
        dest="kb_command", required=True, metavar="ACTION"
    )
    root_help = "library folder (default: the installed knowledge_base)"
    p = kb.add_parser("check", help="validate the library; exit 1 on any problem")
    p.add_argument("--root", type=Path, help=root_help)
    p.set_defaults(func=_kb_check)
    p = kb.add_parser("stats", help="counts per area, sector and language")
    p.add_argument("--root", type=Path, help=root_help)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=_kb_stats)
    p = kb.add_parser("list", help="list practices")
    p.add_argument("--root", type=Path, help=root_help)
    p.add_argument("--area", choices=[a.value for a in Area])
    p.add_argument("--lang", choices=LANGS, default="en")
    p.set_defaults(func=_kb_list)
    p = kb.add_parser("match", help="match text against the library (no TEXT: JSON lines on stdin)")
    p.add_argument("text", nargs="*", help="the text to match")
    p.add_argument("--lang", choices=LANGS)
    p.add_argument("--top", type=int, default=3)
    p.add_argument("--area", choices=[a.value for a in Area], help="weigh this area up, as the bot does")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--root", type=Path, help=root_help)
    p.set_defaults(func=_kb_match)
    p = kb.add_parser("eval", help="matcher accuracy on the evaluation set")
    p.add_argument("--cases", type=Path, help="evaluation file or folder (default: tests/eval)")
    p.add_argument("--root", type=Path, help=root_help)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_kb_eval)

    ent = sub.add_parser("enterprise", help="enterprises").add_subparsers(
        dest="enterprise_command", required=True, metavar="ACTION"
    )
    p = ent.add_parser("create", help="create an enterprise and print its invites")
    p.add_argument("name")
    p.add_argument("--lang", choices=LANGS, default="en", help="the enterprise's default language")
    p.add_argument("--departments", default="", help='comma-separated, e.g. "Cutting,Sewing,Warehouse"')
    p.add_argument("--sectors", default="", help="comma-separated sector ids")
    p.add_argument("--currency", default=None, help="ISO code, e.g. BOB, KGS, USD")
    p.add_argument("--timezone", default=None, help="e.g. America/La_Paz, Asia/Bishkek")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_lazy("bot.admin_cli:cmd_enterprise_create"))

    dep = sub.add_parser("department", help="departments").add_subparsers(
        dest="dep_command", required=True, metavar="ACTION"
    )
    p = dep.add_parser("add", help="add a department to an enterprise")
    p.add_argument("enterprise_id", type=int)
    p.add_argument("name")
    p.set_defaults(func=_lazy("bot.admin_cli:cmd_department_add"))

    inv = sub.add_parser("invite", help="invite links").add_subparsers(
        dest="invite_command", required=True, metavar="ACTION"
    )
    p = inv.add_parser("create", help="a new invite for a role")
    p.add_argument("enterprise_id", type=int)
    p.add_argument("--role", choices=("worker", "lead", "admin"), default="worker")
    p.add_argument("--days", type=int, help="expires after this many days")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_lazy("bot.admin_cli:cmd_invite_create"))
    p = inv.add_parser("revoke", help="withdraw an invite code")
    p.add_argument("code")
    p.set_defaults(func=_lazy("bot.admin_cli:cmd_invite_revoke"))

    mem = sub.add_parser("member", help="members").add_subparsers(
        dest="member_command", required=True, metavar="ACTION"
    )
    p = mem.add_parser("list", help="members of an enterprise")
    p.add_argument("enterprise_id", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_lazy("bot.admin_cli:cmd_member_list"))
    p = mem.add_parser("role", help="change a member's role")
    p.add_argument("enterprise_id", type=int)
    p.add_argument("user_id", type=int)
    p.add_argument("role", choices=("worker", "lead", "admin"))
    p.set_defaults(func=_lazy("bot.admin_cli:cmd_member_role"))
    p = mem.add_parser("remove", help="remove a member (their ideas stay)")
    p.add_argument("enterprise_id", type=int)
    p.add_argument("user_id", type=int)
    p.set_defaults(func=_lazy("bot.admin_cli:cmd_member_remove"))
    return parser


def _lazy(target: str):
    """A command function imported only when used, so `kb` commands start fast."""

    def call(args: argparse.Namespace) -> int:
        import importlib

        module, name = target.split(":")
        return getattr(importlib.import_module(module), name)(args)

    return call


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `scorebot`."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
