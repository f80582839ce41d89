"""Matches a worker's free text (es, ru or en) against the good-practice library, and ideas against each other.

The index is built once (per library version): every practice's title, keywords and texts in all three languages are
turned into terms (stems and the folded words themselves), weighted by field and by rarity. A query is turned into
terms the same way; words not found exactly are looked up with rapidfuzz (typos) or split in two (missing spaces).
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.domain.enums import LANGS, Area
from bot.domain.practice import Practice
from bot.services import textnorm

# How much a word found in each field says about a practice.
FIELD_WEIGHTS = {"keywords": 1.0, "title": 0.9, "do": 0.35, "why": 0.2, "safety": 0.15}
BIGRAM_WEIGHT = 0.8  # two words in a row that also stand together in a keyword or title ("compressed air")
RAW_FACTOR = 1.0  # a word as typed (unstemmed) matching a word as written in the library
TRANSLIT_FACTOR = 0.8  # a Russian word typed in Latin letters
AREA_BOOST = 1.3  # the worker already chose this area
MIN_FUZZY_LEN = 4
BUILD_CHUNK = 1000  # practices indexed at a time (bounds the temporary memory of the build)


@dataclass(frozen=True, slots=True)
class Match:
    """A practice and how well it matched (higher is better)."""

    practice: Practice
    score: float

    def as_dict(self, lang: str) -> dict:
        """The `kb match --json` shape."""
        return {
            "id": self.practice.id,
            "area": self.practice.area.value,
            "score": round(self.score, 4),
            "title": self.practice.text(lang).title,
            "cost": self.practice.cost.value,
        }


def _bigrams(stems: Sequence[str]) -> list[str]:
    return [f"{a} {b}" for a, b in itertools.pairwise(stems)]


def _release_build_memory() -> None:
    """Hands the build's freed temporary memory back to the system (glibc keeps it otherwise): the bot is a
    long-running process on a small server."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to do
        pass


class Postings:
    """term -> (practice indices, weights) in three flat arrays (CSR): small and fast to build for big libraries."""

    def __init__(self, vocab: dict[str, int], indptr: np.ndarray, idx: np.ndarray, weights: np.ndarray):
        self.vocab, self.indptr, self.idx, self.weights = vocab, indptr, idx, weights

    def __contains__(self, key: str) -> bool:
        return key in self.vocab

    def __getitem__(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        k = self.vocab[key]
        lo, hi = self.indptr[k], self.indptr[k + 1]
        return self.idx[lo:hi], self.weights[lo:hi]

    def get(self, key: str) -> tuple[np.ndarray, np.ndarray] | None:
        return self[key] if key in self.vocab else None


class Matcher:
    """An index over a set of practices; build once, query many times (thread-safe for reading)."""

    def __init__(self, practices: Sequence[Practice]):
        self.practices = tuple(practices)
        self._areas = np.array([list(Area).index(p.area) for p in self.practices], dtype=np.int8)
        vocab: dict[str, int] = {}

        def kid(key: str) -> int:
            i = vocab.get(key)
            if i is None:
                i = vocab[key] = len(vocab)
            return i

        # Every distinct (word, language) is analysed once: its stem and the keys it stands for, kept in flat
        # arrays (entry e owns flat_keys[entry_start[e] : entry_start[e] + entry_count[e]]).
        entries: dict[tuple[str, str], int] = {}
        entry_stem: list[str | None] = []
        entry_start, entry_count = array("q"), array("q")
        flat_keys, flat_fac = array("i"), array("f")

        def entry_of(word: str, lang: str) -> int:
            e = entries.get((word, lang))
            if e is not None:
                return e
            found: dict[int, float] = {}
            stem_ = None
            if len(word) >= 2 and not textnorm.is_stopword(word, lang):
                cyr = bool(textnorm._CYR.search(word))
                stem_ = textnorm.stem(word, lang if (lang != "ru" or cyr) else "en")
                found[kid(stem_)] = 1.0
                found[kid(word)] = max(found.get(kid(word), 0.0), RAW_FACTOR)
                if lang == "ru" and cyr:
                    t = kid(textnorm.transliterate(word))
                    found[t] = max(found.get(t, 0.0), TRANSLIT_FACTOR)
            e = entries[(word, lang)] = len(entry_stem)
            entry_stem.append(stem_)
            entry_start.append(len(flat_keys))
            entry_count.append(len(found))
            flat_keys.extend(found.keys())
            flat_fac.extend(found.values())
            return e

        by_lang: dict[str, dict[str, int]] = {lang: {} for lang in LANGS}

        def entries_for(words: list[str], lang: str) -> list[int]:
            known = by_lang[lang]
            found = [known.get(w, -1) for w in words]
            if -1 in found:
                found = [known[w] if w in known else entry_of(w, lang) for w in words]
                for w, e in zip(words, found, strict=True):
                    known[w] = e
            return found

        # Titles and keywords are short and repeat across practices ("compresor", "fuga de agua"): tokenised once.
        short_chunks: dict[tuple[str, str], list[int]] = {}

        def short_entries(chunk: str, lang: str) -> list[int]:
            ents = short_chunks.get((chunk, lang))
            if ents is None:
                ents = entries_for(textnorm.words(chunk), lang)
                if len(short_chunks) < 200_000:
                    short_chunks[(chunk, lang)] = ents
            return ents

        def best_per_pair(major: np.ndarray, minor: np.ndarray, weights: np.ndarray, span: int):
            """Distinct (major, minor) pairs sorted, each with its largest weight."""
            code = major.astype(np.int64) * span + minor
            order = np.argsort(code, kind="stable")
            code, weights = code[order], weights[order]
            starts = np.flatnonzero(np.concatenate(([True], code[1:] != code[:-1]))) if len(code) else order[:0]
            best = np.maximum.reduceat(weights, starts) if len(code) else weights
            return code[starts] // span, code[starts] % span, best

        field_weights = np.array(
            [FIELD_WEIGHTS[f] for f in ("title", "keywords", "do", "why", "safety")], dtype=np.float32
        )
        n_practices = max(len(self.practices), 1)
        parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # Practices are indexed in chunks, so the temporary arrays (and the peak memory) stay small.
        for lo in range(0, len(self.practices), BUILD_CHUNK):
            hi = min(lo + BUILD_CHUNK, len(self.practices))
            col_e, col_f = array("i"), array("b")  # every word of these practices: its entry and field
            per_practice = array("q")
            big_k, big_p = array("i"), array("i")  # bigram keys
            for idx in range(lo, hi):
                before = len(col_e)
                bigrams: set[str] = set()
                for lang in LANGS:
                    text = self.practices[idx].texts.get(lang)
                    if text is None:
                        continue
                    fields = (
                        (0, (text.title,)),
                        (1, text.keywords),
                        (2, (text.do,)),
                        (3, (text.why,)),
                        (4, (text.safety,)),
                    )
                    for code, chunks in fields:
                        for chunk in chunks:
                            if code < 2:
                                ents = short_entries(chunk, lang)
                                stems = [entry_stem[e] for e in ents if entry_stem[e] is not None]
                                bigrams.update(_bigrams(stems))
                            else:
                                ents = entries_for(textnorm.words(chunk), lang)
                            col_e.extend(ents)
                            col_f.extend([code] * len(ents))
                per_practice.append(len(col_e) - before)
                big_k.extend(kid(b) for b in bigrams)
                big_p.extend([idx] * len(bigrams))
            prac_of_word = np.repeat(np.arange(lo, hi, dtype=np.int64), np.frombuffer(per_practice, np.int64))
            ent_prac, ent, ent_w = best_per_pair(
                prac_of_word,
                np.frombuffer(col_e, np.int32),
                field_weights[np.frombuffer(col_f, np.int8)],
                max(len(entry_stem), 1),
            )
            # Expand each (practice, entry) into the entry's keys (stem, word as typed, transliteration).
            # copies, not views: these arrays keep growing in the next chunk
            counts = np.array(entry_count, dtype=np.int64)
            starts = np.array(entry_start, dtype=np.int64)
            keys_all = np.array(flat_keys, dtype=np.int32)
            fac_all = np.array(flat_fac, dtype=np.float32)
            reps = counts[ent]
            pos = np.repeat(starts[ent] - np.cumsum(reps) + reps, reps) + np.arange(int(reps.sum()))
            keys = np.concatenate((keys_all[pos], np.frombuffer(big_k, np.int32)))
            prac = np.concatenate((np.repeat(ent_prac, reps), np.frombuffer(big_p, np.int32)))
            wts = np.concatenate(
                (np.repeat(ent_w, reps) * fac_all[pos], np.full(len(big_k), BIGRAM_WEIGHT, dtype=np.float32))
            )
            k, pr, w = best_per_pair(keys, prac, wts, n_practices)
            parts.append((k.astype(np.int32), pr.astype(np.int32), w.astype(np.float32)))
        if parts:
            keys = np.concatenate([x[0] for x in parts])
            prac = np.concatenate([x[1] for x in parts])
            wts = np.concatenate([x[2] for x in parts])
            order = np.argsort(keys, kind="stable")
            keys, prac, wts = keys[order], prac[order], wts[order]
        else:
            keys, prac, wts = (np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32))
        df = np.bincount(keys, minlength=len(vocab))
        n = max(len(self.practices), 1)
        idf = np.log1p(n / np.maximum(df, 1)).astype(np.float32)
        wts = wts * idf[keys]
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        used = {k: i for k, i in vocab.items() if df[i] > 0}
        self._postings = Postings(used, indptr, prac.astype(np.int32), wts.astype(np.float32))
        self._idf_max = math.log(1.0 + n)
        # Words (not bigrams) grouped by first letter, for typo look-ups in a small bucket.
        buckets: dict[str, list[str]] = defaultdict(list)
        for key in used:
            if " " not in key and len(key) >= MIN_FUZZY_LEN - 1 and not key.isdigit():
                buckets[key[0]].append(key)
        self._buckets = dict(buckets)
        self._known = frozenset(k for k in used if " " not in k)
        self._expand = lru_cache(maxsize=50_000)(self._expand_uncached)
        _release_build_memory()

    # --- query side -------------------------------------------------------------------------------------------

    def _fuzzy(self, key: str) -> list[tuple[str, float]]:
        """Known words within a small edit distance of `key` (1 edit up to 6 letters, else 2), with a similarity."""
        bucket = self._buckets.get(key[0])
        if not bucket or len(key) < MIN_FUZZY_LEN:
            return []
        max_dist = 1 if len(key) <= 6 else 2
        found = process.extract(key, bucket, scorer=Levenshtein.distance, score_cutoff=max_dist, limit=4)
        return [(cand, 0.85 - 0.12 * (dist - 1)) for cand, dist, _ in found if dist > 0]

    def _split(self, word: str) -> list[str] | None:
        """A word made of two known words run together ("fugadeaire" is not split; "airleak" is)."""
        if len(word) < 7:
            return None
        best = None
        for i in range(3, len(word) - 2):
            left, right = word[:i], word[i:]
            if left in self._known and right in self._known:
                score = min(len(left), len(right))
                if best is None or score > best[0]:
                    best = (score, [left, right])
        return best[1] if best else None

    def _expand_uncached(self, word: str, lang: str) -> tuple[tuple[str, float], ...]:
        """The index keys one typed word stands for, each with a similarity in (0, 1]."""
        word_lang = lang if (lang != "ru" or textnorm._CYR.search(word)) else "en"
        stemmed = textnorm.stem(word, word_lang)
        keys: dict[str, float] = {}
        for k in (stemmed, word):
            if k in self._postings:
                keys[k] = 1.0
        if keys:
            return tuple(keys.items())
        parts = self._split(word)
        if parts:
            return tuple(
                (textnorm.stem(p, word_lang), 0.9) for p in parts if textnorm.stem(p, word_lang) in self._postings
            )
        for k in dict.fromkeys((stemmed, word)):
            for cand, sim in self._fuzzy(k):
                if sim > keys.get(cand, 0.0):
                    keys[cand] = sim
        return tuple(keys.items())

    def _query_terms(self, text: str, lang: str) -> tuple[list[list[tuple[str, float]]], list[str]]:
        """Per meaningful word of the query, its keys; and the query's bigram keys."""
        per_word: list[list[tuple[str, float]]] = []
        stems: list[str] = []
        seen: set[str] = set()
        for word in textnorm.words(text):
            if (len(word) < 2 and not word.isdigit()) or textnorm.is_stopword(word, lang):
                continue
            keys = list(self._expand(word, lang))
            if keys:
                stems.append(max(keys, key=lambda kv: kv[1])[0])
            if word in seen:
                continue
            seen.add(word)
            if keys:
                per_word.append(keys)
        return per_word, [bg for bg in _bigrams(stems) if bg in self._postings]

    def scores(self, text: str, lang: str = "en", area: str | None = None) -> np.ndarray:
        """One score per practice (0 = nothing in common)."""
        lang = lang if lang in LANGS else "en"
        total = np.zeros(len(self.practices), dtype=np.float32)
        if not text or not self.practices:
            return total
        per_word, bigrams = self._query_terms(text, lang)
        for keys in per_word:
            if len(keys) == 1:
                key, sim = keys[0]
                idx, w = self._postings[key]
                total[idx] += w * sim  # indices in one posting are unique, so fancy indexing adds correctly
                continue
            best = np.zeros_like(total)
            for key, sim in keys:
                idx, w = self._postings[key]
                best[idx] = np.maximum(best[idx], w * sim)
            total += best
        for bg in dict.fromkeys(bigrams):
            idx, w = self._postings[bg]
            total[idx] += w
        if area:
            try:
                area_pos = list(Area).index(Area(area))
            except ValueError:
                area_pos = -1
            if area_pos >= 0:
                total[self._areas == area_pos] *= AREA_BOOST
        return total

    def match(self, text: str, lang: str = "en", top: int = 3, area: str | None = None) -> list[Match]:
        """The `top` best practices for `text`, best first; empty when nothing in the text matches."""
        if top <= 0:
            return []
        total = self.scores(text, lang, area)
        nonzero = int(np.count_nonzero(total))
        if nonzero == 0:
            return []
        k = min(top, nonzero)
        cand = np.argpartition(-total, k - 1)[:k] if k < len(total) else np.arange(len(total))
        order = sorted(cand, key=lambda i: (-float(total[i]), self.practices[i].id))[:k]
        return [Match(self.practices[i], float(total[i])) for i in order if total[i] > 0]

    # --- idea similarity --------------------------------------------------------------------------------------

    def term_weights(self, text: str, lang: str) -> dict[str, float]:
        """A text as weighted terms (stems weighted by their rarity in the library), for comparing two ideas."""
        out: dict[str, float] = {}
        n = max(len(self.practices), 1)
        for term in textnorm.terms(text, lang):
            posting = self._postings.get(term)
            idf = math.log(1.0 + n / len(posting[0])) if posting else self._idf_max
            out[term] = idf
        return out


def similarity(a: dict[str, float], b: dict[str, float]) -> float:
    """Cosine similarity of two weighted term sets (0..1)."""
    if not a or not b:
        return 0.0
    dot = sum(w * b[t] for t, w in a.items() if t in b)
    na = math.sqrt(sum(w * w for w in a.values()))
    nb = math.sqrt(sum(w * w for w in b.values()))
    return dot / (na * nb) if na and nb else 0.0


@dataclass(frozen=True, slots=True)
class SimilarIdea:
    """An existing idea close to a new one."""

    key: int
    score: float


def find_similar(
    matcher: Matcher,
    text: str,
    lang: str,
    candidates: Iterable[tuple[int, str, str]],
    threshold: float = 0.45,
    limit: int = 3,
) -> list[SimilarIdea]:
    """Existing ideas (key, text, lang) whose wording is close to `text`, most similar first."""
    mine = matcher.term_weights(text, lang)
    found = []
    for key, other_text, other_lang in candidates:
        score = similarity(mine, matcher.term_weights(other_text, other_lang))
        if score >= threshold:
            found.append(SimilarIdea(key, score))
    found.sort(key=lambda s: (-s.score, s.key))
    return found[:limit]


@lru_cache(maxsize=4)
def _matcher_for(root: str | None) -> Matcher:
    from bot.services.library import load

    return Matcher(load(Path(root) if root else None).practices)


def get_matcher(root: Path | None = None) -> Matcher:
    """The process-wide matcher over the installed library (built on first use)."""
    return _matcher_for(str(root) if root else None)
