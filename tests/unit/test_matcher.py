"""Matching workers' words: normalisation, cross-language technical words, area weighting, hostile input."""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time

import numpy as np
import pytest

from bot.services import matcher as matcher_module
from bot.services import textnorm
from bot.services.matcher import Matcher, find_similar


def ids(matcher, text, lang, top=3, area=None):
    return [m.practice.id for m in matcher.match(text, lang, top, area)]


def test_normalisation_folds_case_accents_yo_and_lookalikes():
    assert textnorm.words("Fuga de AIRE en la línea") == ["fuga", "de", "aire", "en", "la", "linea"]
    assert textnorm.words("Течёт") == ["течет"]
    assert textnorm.words("кoмпрессор") == ["компрессор"]  # a Latin "o" inside a Russian word
    assert textnorm.words("20kw,fuga!!!💨aire") == ["20", "kw", "fuga", "aire"]
    assert textnorm.words("a\u200bb") == ["ab"]  # zero-width space removed, not a word break
    assert textnorm.words("«Ahorro»—energía…") == ["ahorro", "energia"]  # typographic punctuation
    assert textnorm.words("e\u0301xito ÉXITO") == ["exito", "exito"]  # a decomposed accent, capitals
    assert textnorm.words("ЛАМПA_LED") == ["лампа", "led"]  # Latin "A" at the end of a Russian word
    assert textnorm.stem("течет", "ru") == textnorm.stem("текут", "ru")  # inflection of one verb


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("es", "el compresor pierde aire por las mangueras"),
        ("es", "el conpresor esta silvando toda la noche"),  # misspelt, no accents
        ("ru", "утечка воздуха компрессор"),
        ("ru", "кампрессор шипит по ночам"),
        ("en", "compressed air leaks"),
        ("en", "the compresor hose is hissing"),
    ],
)
def test_compressed_air_leaks_found_in_three_languages(matcher, lang, text):
    assert "compressed-air-leaks" in ids(matcher, text, lang)


def test_international_words_match_across_languages(matcher):
    for lang in ("es", "ru", "en"):
        assert matcher.match("LED", lang, 3), lang
        assert matcher.match("compressor", lang, 3), lang


def test_chosen_area_weighs_up_but_a_clearly_better_match_still_shows(matcher):
    text = "el compresor pierde aire por las mangueras"
    weighted = matcher.match(text, "es", 3, area="safety")
    assert "compressed-air-leaks" in [m.practice.id for m in weighted]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\t",
        "🙂🙂🙂",
        "\u200b\u202e",
        "\x00\x01\x02",
        "x" * 10_000,
        "ж" * 10_000,
        "🙂" * 5000,
        "a" * 100_000,
        "%s {0} <b>",
        "Компрессор LED chiller fuga аire",
        "\ud800 broken surrogate",
    ],
)
def test_hostile_input_returns_quickly_and_never_raises(matcher, text):
    for lang in ("es", "ru", "en", "xx"):
        start = time.perf_counter()
        result = matcher.match(text, lang, 3)
        assert time.perf_counter() - start < 0.5
        assert isinstance(result, list) and len(result) <= 3


def test_empty_input_gives_an_empty_list(matcher):
    for text in ("", "   ", "🙂", "\u200b"):
        assert matcher.match(text, "en", 3) == []


def test_scores_are_best_first(matcher):
    scores = [m.score for m in matcher.match("agua que gotea del grifo y la manguera", "es", 5)]
    assert scores == sorted(scores, reverse=True)


def test_similar_ideas_are_found_across_wording(matcher):
    existing = [
        (1, "La manguera del compresor pierde aire toda la noche", "es"),
        (2, "Poner focos LED en el almacén", "es"),
        (3, "Течёт кран в туалете", "ru"),
    ]
    found = find_similar(matcher, "el compresor pierde aire por la manguera", "es", existing)
    assert [s.key for s in found][:1] == [1]
    assert find_similar(matcher, "кран течет в туалете", "ru", existing)[0].key == 3
    assert find_similar(matcher, "hay mucho polvo en la carpintería", "es", existing) == []


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("unos 20 litros por día", 20, "l"),
        ("1.500 bs al mes", 1500, "money"),
        ("1,5 кВт·ч", 1.5, "kwh"),
        ("около 300 л в смену", 300, "l"),
        ("una hora al dia", 1, "h"),
        ("media hora por turno", 0.5, "h"),
        ("двадцать литров", 20, "l"),
        ("полчаса", 0.5, "h"),
        ("2 garrafas por semana", 2, None),
        ("3 hours a week", 3, "h"),
    ],
)
def test_quantities_as_workers_write_them(text, value, unit):
    from bot.services.quantity import parse

    q = parse(text)
    assert q is not None and q.value == value and q.unit == unit


@pytest.mark.parametrize("text", ["hola", "gracias", "buenos dias", "thanks!", "спасибо", "привет 🙂", "ok"])
def test_greetings_and_thanks_find_no_practice(matcher, text):
    assert matcher.match(text, "es", 3) == []


def _big_library(practices, n):
    """`n` practices: the real ones again and again under new ids, each copy with a word of its own."""
    out = []
    for i in range(n):
        p = practices[i % len(practices)]
        texts = {
            lang: dataclasses.replace(t, keywords=(*t.keywords, f"copy{i}word"), title=f"{t.title} {i}")
            for lang, t in p.texts.items()
        }
        out.append(dataclasses.replace(p, id=f"{p.id}-{i}", texts=texts))
    return out


def _same_index(a: Matcher, b: Matcher) -> None:
    """The same terms, each with the same practices and weights (terms may be numbered differently)."""
    assert a._postings.vocab.keys() == b._postings.vocab.keys()
    for key in a._postings.vocab:
        ia, wa = a._postings[key]
        ib, wb = b._postings[key]
        oa, ob = np.argsort(ia), np.argsort(ib)
        assert np.array_equal(ia[oa], ib[ob]), key
        assert np.allclose(wa[oa], wb[ob]), key
    for text, lang in (("el compresor pierde aire", "es"), ("течёт кран", "ru"), ("lights on all night", "en")):
        assert [m.practice.id for m in a.match(text, lang)] == [m.practice.id for m in b.match(text, lang)]


@pytest.fixture(scope="module")
def big(library):
    practices = _big_library(library.practices, 2 * matcher_module.BUILD_CHUNK + 300)
    here = pytest.MonkeyPatch()
    here.setattr(matcher_module, "PARALLEL_MIN", 10**9)
    try:
        return practices, Matcher(practices)
    finally:
        here.undo()


@pytest.mark.parametrize("forked", [True, False], ids=["forked", "fresh-python"])
def test_a_large_library_is_built_in_worker_processes_with_the_same_result(big, monkeypatch, caplog, forked):
    practices, in_one_process = big
    monkeypatch.setattr(matcher_module, "_processes", lambda n: 3)
    monkeypatch.setattr(matcher_module, "_can_fork", lambda: forked)
    started = []
    for kind in ("_Worker", "_ForkedWorker"):
        real = getattr(matcher_module, kind)
        monkeypatch.setattr(matcher_module, kind, lambda *a, real=real, kind=kind: started.append(kind) or real(*a))
    _same_index(Matcher(practices), in_one_process)
    # two shares went to worker processes, this process did the third
    assert started == ["_ForkedWorker" if forked else "_Worker"] * 2
    assert "failed" not in caplog.text  # the workers' results were used, not rebuilt here


def test_the_build_is_forked_only_from_a_process_running_one_thread(monkeypatch):
    assert matcher_module._can_fork() == (sys.platform == "linux" and threading.active_count() == 1)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not matcher_module._can_fork()
    finally:
        stop.set()
        thread.join()


@pytest.mark.parametrize("python", ["/nonexistent/python", "/bin/false"])
def test_a_failing_build_worker_leaves_the_share_to_this_process(big, monkeypatch, caplog, python):
    practices, in_one_process = big
    monkeypatch.setattr(matcher_module, "_processes", lambda n: 2)
    monkeypatch.setattr(matcher_module, "_can_fork", lambda: False)
    monkeypatch.setattr(sys, "executable", python)
    _same_index(Matcher(practices), in_one_process)
    assert "building" in caplog.text


def test_no_fork_allowed_leaves_the_share_to_this_process(big, monkeypatch, caplog):
    practices, in_one_process = big
    monkeypatch.setattr(matcher_module, "_processes", lambda n: 2)
    monkeypatch.setattr(matcher_module, "_can_fork", lambda: True)

    def no_fork():
        raise BlockingIOError("fork: resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    _same_index(Matcher(practices), in_one_process)
    assert "cannot start a build worker" in caplog.text


@pytest.mark.parametrize(
    ("lang", "text", "area"),
    [
        ("es", "se desperdicia mucha agua aca", "water"),
        ("es", "contaminamos harto el aire", "emissions"),
        ("ru", "много электричества уходит надо как то экономить", "energy"),
        ("ru", "можно ли как то меньше воды тратить на производстве", "water"),
        ("en", "water is wasted everywhere here", "water"),
        ("en", "the factory is not safe", "safety"),
    ],
)
def test_a_vague_complaint_naming_an_area_gets_mostly_that_area(matcher, lang, text, area):
    found = [m.practice.area for m in matcher.match(text, lang)]
    assert found.count(area) >= 2, found


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("es", "el compresor pierde aire por las mangueras, se escucha el silbido toda la noche"),
        ("ru", "кoмпрессор шипит всю ночь, воздух уходит"),
        ("en", "the compressor hisses all night, air is leaking somewhere"),
    ],
)
def test_when_it_happens_does_not_outweigh_what_happens(matcher, lang, text):
    """ "All night" is in the keywords of heating, air-conditioning and noise practices too; the hissing air is what
    the worker is telling about."""
    found = ids(matcher, text, lang)
    assert found[0] == "compressed-air-leaks", found
    assert "noise-to-neighbours" not in found, found


def test_letters_repeated_for_effect_still_match(matcher):
    assert "compressed-air-leaks" in ids(matcher, "la manguera hace psssssss todo el dia", "es")
    assert "compressed-air-leaks" in ids(matcher, "шланг пшшшшш весь день", "ru")


def _wait_for_the_worker(practices, monkeypatch):
    """This process claims its first chunk only once the worker has taken two (from the back)."""
    real_take = matcher_module._Claims.take

    def take_after_the_worker(self, from_back):
        deadline = time.monotonic() + 20
        while not from_back and time.monotonic() < deadline:
            if self.ends()[1] <= matcher_module._n_chunks(practices) - 2:
                break
            time.sleep(0.02)
        return real_take(self, from_back)

    monkeypatch.setattr(matcher_module._Claims, "take", take_after_the_worker)
    analysed = []
    real_analyse = matcher_module._Analyser.analyse
    monkeypatch.setattr(
        matcher_module._Analyser, "analyse", lambda self, p, chunks: analysed.append(1) or real_analyse(self, p, chunks)
    )
    return analysed


def test_chunks_taken_by_a_worker_that_dies_are_built_here(big, monkeypatch, caplog, tmp_path):
    practices, in_one_process = big
    dying = tmp_path / "dying-python"
    dying.write_text(
        f"#!{sys.executable}\n"
        "import pickle, sys\n"
        "from bot.services.matcher import _Claims\n"
        "practices, path = pickle.load(sys.stdin.buffer)\n"
        "claims = _Claims(path)\n"
        "claims.take(from_back=True), claims.take(from_back=True)  # takes two chunks, then dies\n"
        "sys.exit(3)\n",
        encoding="utf-8",
    )
    dying.chmod(0o755)
    monkeypatch.setattr(matcher_module, "_processes", lambda n: 2)
    monkeypatch.setattr(matcher_module, "_can_fork", lambda: False)
    monkeypatch.setattr(sys, "executable", str(dying))
    analysed = _wait_for_the_worker(practices, monkeypatch)
    _same_index(Matcher(practices), in_one_process)
    assert "building its chunks here" in caplog.text
    assert len(analysed) == 2  # this process's own chunks, then the two the worker took


def test_chunks_taken_by_a_forked_worker_that_dies_are_built_here(big, monkeypatch, caplog):
    practices, in_one_process = big
    monkeypatch.setattr(matcher_module, "_processes", lambda n: 2)
    monkeypatch.setattr(matcher_module, "_can_fork", lambda: True)

    def die_after_two_chunks(self, practices, claims):  # runs in the child
        claims.take(from_back=True), claims.take(from_back=True)
        os._exit(3)

    monkeypatch.setattr(matcher_module._ForkedWorker, "_run", die_after_two_chunks)
    analysed = _wait_for_the_worker(practices, monkeypatch)
    _same_index(Matcher(practices), in_one_process)
    assert "forked worker exited with 3" in caplog.text
    assert len(analysed) == 2


def test_no_temporary_files_means_one_process_builds_it_all(big, monkeypatch, caplog):
    practices, in_one_process = big
    monkeypatch.setattr(matcher_module, "_processes", lambda n: 2)

    def no_tmp(n_chunks):
        raise PermissionError("read-only /tmp")

    monkeypatch.setattr(matcher_module._Claims, "create", staticmethod(no_tmp))
    _same_index(Matcher(practices), in_one_process)
    assert "cannot share the index build" in caplog.text
