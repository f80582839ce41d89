"""Measures the matcher on labelled worker phrasings (tests/eval/*.yaml): area and practice accuracy per language."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.domain.enums import LANGS, Area
from bot.services.matcher import Matcher, get_matcher

DEFAULT_CASES = Path(__file__).resolve().parents[2] / "tests" / "eval"


@dataclass(frozen=True, slots=True)
class Case:
    """One phrasing a worker might type, with what it should find."""

    lang: str
    text: str
    area: str
    practices: tuple[str, ...]  # any of these in the top 3 is a hit; empty for a vague phrasing
    source: str = ""


def load_cases(path: Path | None = None) -> list[Case]:
    """Cases from one YAML file or every *.yaml in a folder; each file has `lang` and a list of `cases`."""
    path = Path(path) if path else DEFAULT_CASES
    files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    cases = []
    for f in files:
        doc = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        lang = doc.get("lang")
        for item in doc.get("cases", []):
            case_lang = item.get("lang", lang)
            if case_lang not in LANGS:
                raise ValueError(f"{f.name}: case {item.get('text')!r} has no valid lang")
            Area(item["area"])  # raises on an unknown area
            cases.append(
                Case(
                    lang=case_lang,
                    text=str(item["text"]),
                    area=item["area"],
                    practices=tuple(item.get("practices") or ()),
                    source=f.name,
                )
            )
    return cases


def evaluate(cases: list[Case], matcher: Matcher | None = None, root: Path | None = None, top: int = 3) -> dict:
    """Top-1/top-3 area accuracy and practice hit rate per language, and the misses."""
    matcher = matcher or get_matcher(root)
    known = {p.id for p in matcher.practices}
    stats: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    misses = []
    unknown_ids = sorted({pid for c in cases for pid in c.practices if pid not in known})
    for c in cases:
        found = matcher.match(c.text, lang=c.lang, top=top)
        areas = [m.practice.area.value for m in found]
        ids = [m.practice.id for m in found]
        s = stats[c.lang]
        s["cases"] += 1
        s["area_top1"] += bool(areas) and areas[0] == c.area
        area_hit = c.area in areas
        s["area_top3"] += area_hit
        practice_hit = None
        if c.practices:
            s["specific"] += 1
            practice_hit = any(pid in ids for pid in c.practices)
            s["practice_top3"] += practice_hit
            s["practice_top1"] += bool(ids) and ids[0] in c.practices
        if not area_hit or practice_hit is False:
            misses.append({"lang": c.lang, "text": c.text, "area": c.area, "expected": list(c.practices), "got": ids})
    report = {"per_language": {}, "misses": misses, "unknown_ids": unknown_ids}
    for lang in sorted(stats):
        s = stats[lang]
        report["per_language"][lang] = {
            "cases": s["cases"],
            "specific": s["specific"],
            "area_top1": s["area_top1"] / s["cases"],
            "area_top3": s["area_top3"] / s["cases"],
            "practice_top1": s["practice_top1"] / s["specific"] if s["specific"] else None,
            "practice_top3": s["practice_top3"] / s["specific"] if s["specific"] else None,
        }
    return report


def format_report(report: dict) -> str:
    """A short table for people."""
    lines = ["lang  cases  specific  area@1  area@3  practice@1  practice@3"]
    for lang, r in report["per_language"].items():

        def pct(v: float | None) -> str:
            return "   -  " if v is None else f"{v * 100:5.1f}%"

        lines.append(
            f"{lang:<5} {r['cases']:>5}  {r['specific']:>8}  {pct(r['area_top1'])}  {pct(r['area_top3'])}"
            f"  {pct(r['practice_top1']):>10}  {pct(r['practice_top3']):>10}"
        )
    if report["unknown_ids"]:
        lines.append(f"unknown practice ids in the cases: {', '.join(report['unknown_ids'])}")
    lines.append(f"{len(report['misses'])} misses (area not in top 3, or no expected practice in top 3)")
    return "\n".join(lines)
