"""Matching quality on our evaluation set (tests/eval): the issue's targets, per language."""

from __future__ import annotations

import pytest

from bot.services.evaluation import evaluate, load_cases

AREA_TOP3 = 0.95  # the right area among the first three suggestions
PRACTICE_TOP3 = 0.80  # a right practice among the first three, for phrasings that name a specific problem


@pytest.fixture(scope="module")
def report(matcher):
    return evaluate(load_cases(), matcher=matcher)


def test_the_set_is_big_enough_and_labelled_with_real_ids(report):
    assert report["unknown_ids"] == []
    for lang in ("es", "ru", "en"):
        assert report["per_language"][lang]["cases"] >= 100, lang
    areas = {c.area for c in load_cases()}
    assert len(areas) == 7


@pytest.mark.parametrize("lang", ["es", "ru", "en"])
def test_quality_targets_per_language(report, lang):
    r = report["per_language"][lang]
    misses = [m for m in report["misses"] if m["lang"] == lang]
    assert r["area_top3"] >= AREA_TOP3, misses
    assert r["practice_top3"] >= PRACTICE_TOP3, misses
