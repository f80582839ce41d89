"""Matcher benchmark: query latency on the real library and on synthetic libraries of 1k/5k/10k practices, index
build time and resident memory, against a plain rapidfuzz.process.extract over titles measured in the same run.

    .venv/bin/python bench/bench_matcher.py            # prints a Markdown report
    .venv/bin/python bench/bench_matcher.py --write    # also writes it into bench/RESULTS.md

Each library size is measured in a fresh subprocess, so its memory figure is not polluted by the others.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZES = [0, 1000, 5000, 10000]  # 0 = the real library
QUERIES_PER_SIZE = 1500
BUILD_RUNS = 5  # builds per library size, each in a fresh process: the build time is their median
BASELINE_QUERIES = 300  # the baseline is slow on long texts; fewer queries keep the run short


def rss_mb() -> float:
    """Resident memory of this process, in MB (Linux)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    import resource

    return pages * resource.getpagesize() / 1e6


def queries() -> list[tuple[str, str]]:
    """Realistic phrasings: the evaluation set if present, plus hostile inputs."""
    from bot.services.evaluation import DEFAULT_CASES, load_cases

    qs = [(c.lang, c.text) for c in load_cases(DEFAULT_CASES)] if DEFAULT_CASES.is_dir() else []
    qs += [("es", "el compresor pierde aire"), ("ru", "течёт кран в цеху"), ("en", "lights on all night")]
    qs += [
        ("en", ""),
        ("ru", "   "),
        ("es", "🙂🙂🙂"),
        ("en", "x" * 10000),
        ("ru", "\x00\x01\x02 кран"),
        ("es", "Компрессор LED chiller fuga"),
    ]
    return qs


def synthetic(practices, n: int, seed: int = 7):
    """`n` practices made by recombining real ones: new ids, shuffled and mixed keywords, invented words."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        base = practices[i % len(practices)]
        donor = practices[rng.randrange(len(practices))]
        texts = {}
        for lang, t in base.texts.items():
            kws = list(t.keywords) + rng.sample(
                list(donor.texts[lang].keywords), k=min(3, len(donor.texts[lang].keywords))
            )
            kws.append(f"tok{rng.randrange(50000)}x{lang}")
            rng.shuffle(kws)
            texts[lang] = replace(t, title=f"{t.title} {i}", keywords=tuple(kws))
        out.append(replace(base, id=f"{base.id[:30]}-{i}", texts=texts))
    return out


def reference_loop() -> float:
    """Seconds for a fixed pure-Python loop: how fast this machine is at the moment (it varies here from minute to
    minute, and every figure with it)."""
    t = time.perf_counter()
    total = 0
    for i in range(3_000_000):
        total += i & 7
    return time.perf_counter() - t


def measure(size: int, build_only: bool = False) -> dict:
    """Runs in a subprocess: build the index for one library size and time the queries."""
    from rapidfuzz import fuzz, process

    from bot.services import textnorm
    from bot.services.library import load
    from bot.services.matcher import Matcher

    library = load()
    textnorm.stem("прогрев", "ru")  # load the Russian morphology before measuring memory
    practices = list(library.practices) if size == 0 else synthetic(library.practices, size)
    qs = queries()
    reference = reference_loop()
    before = rss_mb()
    t0 = time.perf_counter()
    matcher = Matcher(practices, library.area_words)
    build_s = time.perf_counter() - t0
    mem = rss_mb() - before
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3 - before  # kB on Linux
    if build_only:
        return {"build_s": build_s, "mem_mb": mem, "peak_mb": peak, "reference_s": reference}
    rng = random.Random(1)
    sample = [qs[rng.randrange(len(qs))] for _ in range(QUERIES_PER_SIZE)]
    for lang, text in sample[:50]:  # warm-up
        matcher.match(text, lang, 3)
    times = []
    for lang, text in sample:
        # Cold: no word of this query has been seen before (the caches would make repeated phrasings faster).
        matcher._expand.cache_clear()
        textnorm.stem.cache_clear()
        t = time.perf_counter_ns()
        matcher.match(text, lang, 3)
        times.append((time.perf_counter_ns() - t) / 1e6)
    titles = [t.title for p in practices for t in p.texts.values()]
    base_times = []
    for _lang, text in sample[:BASELINE_QUERIES]:
        t = time.perf_counter_ns()
        process.extract(text[:4000], titles, scorer=fuzz.WRatio, limit=3)
        base_times.append((time.perf_counter_ns() - t) / 1e6)
    times.sort()
    base_times.sort()
    return {
        "size": len(practices),
        "real": size == 0,
        "build_s": build_s,
        "mem_mb": mem,
        "peak_mb": peak,
        "median_ms": statistics.median(times),
        "p99_ms": times[int(len(times) * 0.99) - 1],
        "max_ms": times[-1],
        "base_median_ms": statistics.median(base_times),
        "base_p99_ms": base_times[int(len(base_times) * 0.99) - 1],
        "queries": len(times),
        "reference_s": reference,
    }


def report(rows: list[dict]) -> str:
    lines = [
        "## Matcher (issue: matching workers' words)",
        "",
        f"Machine: {platform.processor() or platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}; {rows[0]['queries']} queries per library (evaluation phrasings and hostile "
        "inputs, drawn at random), top 3, each with cold caches (no word of it seen before). Baseline: `rapidfuzz.process.extract(text, titles, scorer=WRatio, limit=3)` "
        f"over the titles in all three languages, the first {BASELINE_QUERIES} of the same queries, same run. Index build: median of {BUILD_RUNS} builds, "
        "each in a fresh process (range in brackets); from 2,000 practices a worker process (a fork of this one) builds part of the index beside it. Memory: resident-set "
        "growth of the bot's process while the index is built, median of the same builds (the library itself and the Russian morphology are loaded before; "
        "a worker's memory is its own and is returned when it ends). Reference: a fixed pure-Python loop timed just before each "
        "build (median): this machine's speed varies from minute to minute, and every figure with it.",
        "",
        "| library | index build | index memory (after build / peak while building) | median | p99 | max | baseline median | baseline p99 | p99 ratio (ours / baseline) | reference |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        name = f"real ({r['size']})" if r["real"] else f"synthetic {r['size']:,}"
        lines.append(
            f"| {name} | {r['build_s']:.2f} s ({r['build_min']:.2f}–{r['build_max']:.2f}) | {r['mem_mb']:.0f} / {r['peak_mb']:.0f} MB | {r['median_ms']:.2f} ms | {r['p99_ms']:.2f} ms "
            f"| {r['max_ms']:.2f} ms | {r['base_median_ms']:.2f} ms | {r['base_p99_ms']:.2f} ms "
            f"| {r['p99_ms'] / r['base_p99_ms']:.2f} | {r['reference_s']:.2f} s |"
        )
    lines += [
        "",
        "Targets: real library median < 2 ms and p99 < 5 ms; 10,000 practices p99 < 20 ms, build < 3 s, memory < 250 MB.",
    ]
    return "\n".join(lines) + "\n"


def quality() -> str:
    """Matching quality on each evaluation set, per language, with the library as it is now."""
    from collections import defaultdict

    from bot.services.evaluation import DEFAULT_CASES, evaluate, load_cases
    from bot.services.matcher import get_matcher

    matcher = get_matcher()
    by_set = defaultdict(list)
    for case in load_cases(DEFAULT_CASES):
        stem = Path(case.source).stem  # "es", "es-second", ...
        by_set[stem.partition("-")[2] or "first"].append(case)
    lines = [
        "## Matching quality (tests/eval)",
        "",
        "The first set was written alongside the matcher. The second, third and fourth were written by other "
        "writers who had not seen the matcher; the header of each file gives the figures it gave before it guided "
        "any change to the matcher or the library (its held-out figure). Below: now. area@3 = the right area among "
        "the first three suggestions; practice@3 = a right practice among them, for phrasings that name a specific "
        "problem.",
        "",
        "| set | lang | phrasings | area@3 | practice@3 |",
        "|---|---|---|---|---|",
    ]
    order = ["first", "second", "third", "fourth"]
    for name in sorted(by_set, key=lambda n: (order.index(n) if n in order else len(order), n)):
        for lang, r in evaluate(by_set[name], matcher)["per_language"].items():
            practice = f"{r['practice_top3'] * 100:.1f}%" if r["practice_top3"] is not None else "-"
            lines.append(f"| {name} | {lang} | {r['cases']} | {r['area_top3'] * 100:.1f}% | {practice} |")
    for lang, r in evaluate(load_cases(DEFAULT_CASES), matcher)["per_language"].items():
        lines.append(f"| all | {lang} | {r['cases']} | {r['area_top3'] * 100:.1f}% | {r['practice_top3'] * 100:.1f}% |")
    lines += ["", "Targets: area@3 at least 95% and practice@3 at least 80% in every language."]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--build-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(measure(args.one, args.build_only)))
        return 0

    def run(*extra: str) -> dict:
        out = subprocess.run([sys.executable, __file__, *extra], capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    rows = []
    for size in SIZES:
        row = run("--one", str(size))
        builds = [row] + [run("--one", str(size), "--build-only") for _ in range(BUILD_RUNS - 1)]
        for key in ("build_s", "mem_mb", "peak_mb", "reference_s"):
            row[key] = statistics.median(b[key] for b in builds)
        row["build_min"], row["build_max"] = min(b["build_s"] for b in builds), max(b["build_s"] for b in builds)
        rows.append(row)
        print(f"measured {row['size']} practices", file=sys.stderr)
    text = report(rows) + "\n" + quality()
    print(text)
    if args.write:
        results = ROOT / "bench" / "RESULTS.md"
        head = "# Benchmark results\n\nMeasured on this project's 2-core development machine; re-run to update.\n\n"
        results.write_text(head + text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
