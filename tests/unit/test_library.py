"""The good-practice library: the real one passes every check; broken ones fail naming the file and practice."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import yaml

from bot.domain.enums import LANGS, Area
from bot.services.library import load, validate

GOOD = {
    "id": "fix-dripping-taps",
    "area": "water",
    "sectors": ["general"],
    "cost": "low",
    "en": {
        "title": "Fix dripping taps",
        "do": "Walk the site once a week and note every tap that drips. Replace the washer the same day.",
        "why": "A dripping tap wastes water every hour of the year.",
        "keywords": ["dripping tap", "tap", "faucet"],
    },
    "es": {
        "title": "Reparar los grifos que gotean",
        "do": "Recorra la planta una vez por semana y anote cada grifo que gotea. Cambie la goma el mismo día.",
        "why": "Un grifo que gotea desperdicia agua todas las horas del año.",
        "keywords": ["grifo", "pila", "gotea"],
    },
    "ru": {
        "title": "Починить капающие краны",
        "do": "Раз в неделю обходите цех и записывайте каждый капающий кран. Меняйте прокладку в тот же день.",
        "why": "Капающий кран теряет воду круглый год.",
        "keywords": ["кран", "капает", "смеситель"],
    },
    "savings": [
        {
            "source": "US EPA WaterSense (second-hand)",
            "en": "One drip a second wastes over 11,000 litres a year.",
            "es": "Una gota por segundo desperdicia más de 11.000 litros al año.",
            "ru": "Одна капля в секунду — это больше 11 000 литров в год.",
        }
    ],
}


def write_library(root: Path, practices: list, extra_files: dict[str, str] | None = None) -> Path:
    """A library folder with one practice file, and optionally other raw files."""
    (root / "practices").mkdir(parents=True)
    (root / "library.yaml").write_text("schema: 1\nversion: '2026.11.0'\n", encoding="utf-8")
    (root / "practices" / "water.yaml").write_text(
        yaml.safe_dump({"practices": practices}, allow_unicode=True), encoding="utf-8"
    )
    for name, text in (extra_files or {}).items():
        (root / "practices" / name).write_text(text, encoding="utf-8")
    return root


def messages(root: Path) -> list[str]:
    library, problems = validate(root)
    assert library is None
    return [str(p) for p in problems]


def test_the_real_library_passes_every_check():
    library, problems = validate()
    assert problems == [], "\n".join(map(str, problems))
    assert len(library.practices) >= 180
    for area in Area:
        assert len(library.by_area(area)) >= 20, f"{area} has only {len(library.by_area(area))} practices"
    for p in library.practices:
        assert set(p.texts) == set(LANGS)
        for s in p.savings:
            assert s.source.strip()


def test_a_good_fixture_loads(tmp_path):
    library = load(write_library(tmp_path, [GOOD]))
    practice = library.get("fix-dripping-taps")
    assert practice.text("ru").title == "Починить капающие краны"
    assert practice.savings[0].source.startswith("US EPA")


def test_missing_translation_is_named(tmp_path):
    broken = copy.deepcopy(GOOD)
    del broken["ru"]
    (msg,) = messages(write_library(tmp_path, [broken]))
    assert msg == "practices/water.yaml: practice fix-dripping-taps: ru: translation missing"


def test_missing_field_in_one_language_is_named(tmp_path):
    broken = copy.deepcopy(GOOD)
    del broken["es"]["why"]
    (msg,) = messages(write_library(tmp_path, [broken]))
    assert "practice fix-dripping-taps: es.why: required field missing" in msg


def test_unknown_area_is_named(tmp_path):
    broken = copy.deepcopy(GOOD)
    broken["area"] = "noise"
    (msg,) = messages(write_library(tmp_path, [broken]))
    assert "practice fix-dripping-taps: area 'noise' is not one of energy, water" in msg


def test_duplicate_id_is_named_with_the_first_file(tmp_path):
    other = copy.deepcopy(GOOD)
    for lang in LANGS:
        other[lang]["title"] += " (2)"
    dup_file = yaml.safe_dump({"practices": [other]}, allow_unicode=True)
    msgs = messages(write_library(tmp_path, [GOOD], {"zz_more.yaml": dup_file}))
    assert msgs == [
        "practices/zz_more.yaml: practice fix-dripping-taps: duplicate id (first used in practices/water.yaml)"
    ]


def test_duplicate_title_is_named(tmp_path):
    other = copy.deepcopy(GOOD)
    other["id"] = "fix-taps-again"
    msgs = messages(write_library(tmp_path, [GOOD, other]))
    assert (
        "practices/water.yaml: practice fix-taps-again: en.title duplicates the title of practice fix-dripping-taps"
        in msgs
    )


def test_malformed_yaml_names_file_and_line(tmp_path):
    msgs = messages(write_library(tmp_path, [GOOD], {"broken.yaml": "practices:\n  - id: x\n    area: [water\n"}))
    assert len(msgs) == 1
    assert msgs[0].startswith("practices/broken.yaml: not valid YAML at line")


def test_empty_keywords_and_missing_source_are_refused(tmp_path):
    broken = copy.deepcopy(GOOD)
    broken["es"]["keywords"] = []
    broken["savings"][0]["source"] = ""
    msgs = messages(write_library(tmp_path, [broken]))
    assert any("es.keywords: needs at least 3 keywords" in m for m in msgs)
    assert any("savings.0.source" in m for m in msgs)


def test_text_in_the_wrong_language_is_caught(tmp_path):
    broken = copy.deepcopy(GOOD)
    broken["ru"]["title"] = "Fix dripping taps (ru)"
    msgs = messages(write_library(tmp_path, [broken]))
    assert msgs == ["practices/water.yaml: practice fix-dripping-taps: ru.title: no Russian (Cyrillic) text"]


def test_unknown_field_is_refused(tmp_path):
    broken = copy.deepcopy(GOOD)
    broken["en"]["titel"] = "typo"
    assert any("en.titel: unknown field" in m for m in messages(write_library(tmp_path, [broken])))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=120)


def test_kb_check_exits_1_with_clear_messages(tmp_path):
    broken = copy.deepcopy(GOOD)
    del broken["ru"]
    proc = run_cli("kb", "check", "--root", str(write_library(tmp_path, [broken])))
    assert proc.returncode == 1
    assert "practices/water.yaml: practice fix-dripping-taps: ru: translation missing" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_kb_check_and_stats_on_the_real_library():
    proc = run_cli("kb", "check")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(run_cli("kb", "stats", "--json").stdout)
    assert sum(stats["by_area"].values()) == stats["total"] >= 180
    assert stats["by_language"] == {"en": stats["total"], "es": stats["total"], "ru": stats["total"]}


def test_kb_list_shows_one_area_in_russian():
    proc = run_cli("kb", "list", "--area", "water", "--lang", "ru")
    assert proc.returncode == 0
    lines = proc.stdout.strip().splitlines()
    assert len(lines) >= 20
    assert all(" water " in line for line in lines)
    assert any("\u0400" <= ch <= "\u04ff" for ch in proc.stdout)


def test_a_value_cut_by_a_yaml_comment_is_caught(tmp_path):
    text = yaml.safe_dump({"practices": [GOOD]}, allow_unicode=True).replace(
        "source: US EPA WaterSense (second-hand)", "source: US EPA WaterSense Tip Sheet #3 (2012)"
    )
    root = write_library(tmp_path, [])
    (root / "practices" / "water.yaml").write_text(text, encoding="utf-8")
    msgs = messages(root)
    assert any("' #' starts a YAML comment" in m for m in msgs), msgs


def test_area_words_load_and_a_phrase_or_unknown_area_is_refused(tmp_path):
    root = write_library(tmp_path, [GOOD])
    manifest = root / "library.yaml"
    manifest.write_text(
        "schema: 1\nversion: '2026.11.0'\nareas:\n  water: {en: [water], es: [agua], ru: [вода]}\n", encoding="utf-8"
    )
    assert load(root).area_words == {"water": {"en": ("water",), "es": ("agua",), "ru": ("вода",)}}
    manifest.write_text(
        "schema: 1\nversion: '2026.11.0'\nareas:\n  water: {en: [water bill], es: [agua], ru: [вода]}\n"
        "  wind: {en: [wind], es: [viento], ru: [ветер]}\n",
        encoding="utf-8",
    )
    msgs = messages(root)
    assert any("library.yaml" in m and "areas.water.en" in m for m in msgs), msgs
    assert any("library.yaml" in m and "wind" in m for m in msgs), msgs


def test_the_real_library_names_every_area_in_every_language():
    library = load()
    assert set(library.area_words) == {a.value for a in Area}
    for area, by_lang in library.area_words.items():
        assert set(by_lang) == set(LANGS), area
