"""Matches a worker's free text (es, ru or en) against the good-practice library, and ideas against each other.

The index is built once (per library version): every practice's title, keywords and texts in all three languages are
turned into terms (stems and the folded words themselves), weighted by field and by rarity. A query is turned into
terms the same way; words not found exactly are looked up with rapidfuzz (typos) or split in two (missing spaces).
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import operator
import os
import signal
import struct
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from bot.domain.enums import LANGS, Area
from bot.domain.practice import Practice
from bot.services import textnorm

try:
    import fcntl  # file locks, for sharing the index build between processes (POSIX)
except ImportError:  # pragma: no cover - Windows: the index is built in one process
    fcntl = None

log = logging.getLogger(__name__)

# How much a word found in each field says about a practice.
FIELD_WEIGHTS = {"keywords": 1.0, "title": 0.9, "do": 0.35, "why": 0.2, "safety": 0.15}
FIELD_SPREAD = 0.35  # share of a term's weight in each further field of a practice that it is also in
BIGRAM_WEIGHT = 0.8  # two words in a row that also stand together in a keyword or title ("compressed air")
RAW_FACTOR = 1.0  # a word as typed (unstemmed) matching a word as written in the library
TRANSLIT_FACTOR = 0.8  # a Russian word typed in Latin letters
AREA_BOOST = 1.3  # the worker already chose this area
AREA_WORD_WEIGHT = 1.5  # the text names an area as a whole ("agua", "электричество"), added to its practices
AREA_WORD_MIN_SIM = 0.8  # a misspelt area word still counts, a merely similar word does not
MIN_FUZZY_LEN = 4
_AREA_POS = {area: i for i, area in enumerate(Area)}  # area (or its value) -> its number in the index
BUILD_CHUNK = 500  # practices indexed at a time (bounds the temporary memory of the build)


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


# --- building the index ---------------------------------------------------------------------------------------
#
# A practice is handed to the build as plain data, so it can be sent to another process:
# {lang: (title, keywords, do, why, safety)} for each language it has.
_Texts = dict[str, tuple[str, tuple[str, ...], str, str, str]]
_FIELDS = ("title", "keywords", "do", "why", "safety")
# A posting comes from a field and a kind of term (stem, word as written, transliteration), or is a bigram: 16
# combinations, packed into sorted integer codes as 4 bits. Each has its weight and its slot (the field; bigrams
# their own) for adding up evidence from several fields.
_FACTORS = (1.0, RAW_FACTOR, TRANSLIT_FACTOR)  # a term as the stem, the word as written, its transliteration
_COMBO_WEIGHT = np.array([FIELD_WEIGHTS[f] * k for f in _FIELDS for k in _FACTORS] + [BIGRAM_WEIGHT], dtype=np.float32)
_COMBO_SLOT = np.array([i for i in range(len(_FIELDS)) for _ in _FACTORS] + [len(_FIELDS)], dtype=np.int64)
_BIGRAM_COMBO = len(_COMBO_WEIGHT) - 1
_N_SLOTS = len(_FIELDS) + 1
assert len(_COMBO_WEIGHT) <= 16
_SEP = "QSEPQ"  # stands between two texts in a batch; cannot be a word of a folded (lower-cased) text
PARALLEL_MIN = 2000  # from this many practices, worker processes share the build
MAX_PROCESSES = 4
# A partial index: (terms, practices per term, practices term after term, weights before rarity)
_Partial = tuple[list[str], np.ndarray, np.ndarray, np.ndarray]


def _plain(practice: Practice) -> _Texts:
    return {
        lang: (t.title, tuple(t.keywords), t.do, t.why, t.safety)
        for lang in LANGS
        if (t := practice.texts.get(lang)) is not None
    }


def _pack(columns: Sequence[np.ndarray], bits: Sequence[int]) -> np.ndarray:
    """Columns of non-negative integers packed into one integer per row, the first column highest: sorting the
    packed values sorts the rows. 32-bit when they fit (sorting those is about twice as fast)."""
    dtype = np.uint32 if sum(bits) <= 32 else np.uint64
    packed = np.zeros(len(columns[0]), dtype=dtype)
    for values, width in zip(columns, bits, strict=True):
        packed <<= dtype(width)
        packed |= values.astype(dtype)
    return packed


def _unpack(packed: np.ndarray, bits: Sequence[int]) -> list[np.ndarray]:
    shift, out = sum(bits), []
    for width in bits:
        shift -= width
        out.append(((packed >> packed.dtype.type(shift)) & packed.dtype.type((1 << width) - 1)).astype(np.int64))
    return out


def _last_of_runs(packed: np.ndarray, low_bits: int) -> np.ndarray:
    """Of sorted codes, the last of each run of codes equal above their lowest `low_bits` bits (with 0: the distinct
    codes)."""
    if not len(packed):
        return packed
    key = packed >> packed.dtype.type(low_bits)
    return packed[np.flatnonzero(np.concatenate((key[1:] != key[:-1], [True])))]


class _Analyser:
    """Turns practices' texts into (term, practice, weight) triples. Every distinct word of a language is analysed
    once into an *entry*: the index terms it stands for (its stem, the word as written, a transliteration)."""

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.term_ids: dict[str, int] = {}
        # entry 0 is the separator between texts, entry 1 a word that says nothing (stopword, single letter)
        self.known: dict[str, dict[str, int]] = {lang: {_SEP: 0} for lang in LANGS}  # piece of text -> entry
        self.by_word: dict[str, dict[str, int]] = {lang: {} for lang in LANGS}  # word -> entry
        self.groups: list[tuple[int, ...]] = []  # the entries of pieces holding several words ("20kw")
        self.stem_term = array("i", [-1, -1])  # entry -> the term of its stem (-1: none)
        self.start, self.count = array("q", [0, 0]), array("q", [0, 0])  # entry -> its slice of flat_terms
        self.lead = array("q", [0, 0])  # entry -> how many of its terms (the first) are not transliterations
        self.flat_terms, self.flat_kind = array("i"), array("b")
        # bigrams seen so far: their codes (sorted) and terms
        self.bigram_codes, self.bigram_ids = np.zeros(0, np.int64), np.zeros(0, np.int64)

    def term(self, key: str) -> int:
        i = self.term_ids.get(key)
        if i is None:
            i = self.term_ids[key] = len(self.terms)
            self.terms.append(key)
        return i

    def _new_entry(self, word: str, lang: str) -> int:
        if len(word) < 2 or textnorm.is_stopword(word, lang):
            return 1
        found: dict[int, int] = {}  # term -> kind (0 stem, 1 word as written, 2 transliteration)
        cyr = bool(textnorm._CYR.search(word))
        stem_term = self.term(textnorm.stem(word, lang))
        found[stem_term] = 0
        found.setdefault(self.term(word), 1)
        if lang == "ru" and cyr:
            found.setdefault(self.term(textnorm.transliterate(word)), 2)
        self.stem_term.append(stem_term)
        self.start.append(len(self.flat_terms))
        self.count.append(len(found))
        self.lead.append(sum(1 for kind in found.values() if kind < 2))
        self.flat_terms.extend(found.keys())
        self.flat_kind.extend(found.values())
        return len(self.stem_term) - 1

    def _bigram_terms(self, codes: np.ndarray) -> np.ndarray:
        """The terms of bigrams given as sorted codes (stem term << 32 | stem term); new ones are made here."""
        pos = np.searchsorted(self.bigram_codes, codes)
        known = pos < len(self.bigram_codes)
        known[known] = self.bigram_codes[pos[known]] == codes[known]
        out = np.empty(len(codes), dtype=np.int64)
        out[known] = self.bigram_ids[pos[known]]
        new = codes[~known]
        out[~known] = [self.term(f"{self.terms[c >> 32]} {self.terms[c & 0xFFFFFFFF]}") for c in new.tolist()]
        if len(new):
            all_codes = np.concatenate((self.bigram_codes, new))
            order = np.argsort(all_codes, kind="stable")
            self.bigram_codes = all_codes[order]
            self.bigram_ids = np.concatenate((self.bigram_ids, out[~known]))[order]
        return out

    def entries(self, texts: list[str], lang: str) -> np.ndarray:
        """The entries of all words of `texts`, in order, with entry 0 between two texts."""
        folded = textnorm.fold("\x00".join(texts), limit=None).replace("\x00", f" {_SEP} ")
        pieces = textnorm.split_pieces(folded)
        known = self.known[lang]
        ids = np.fromiter(map(known.get, pieces, itertools.repeat(-1)), dtype=np.int32, count=len(pieces))
        missing = np.flatnonzero(ids == -1)
        if len(missing):  # pieces not seen before in this language
            new = [pieces[i] for i in missing.tolist()]
            for piece in dict.fromkeys(new):
                known[piece] = self._piece_entry(piece, lang)
            ids[missing] = np.fromiter(map(known.__getitem__, new), dtype=np.int32, count=len(new))
        groups = ids < -1
        if not groups.any():
            return ids
        # A few pieces hold several words ("20kw"): expanded in place, in order.
        sizes = np.ones(len(ids), dtype=np.int64)
        sizes[groups] = [len(self.groups[-2 - g]) for g in ids[groups].tolist()]
        out = np.repeat(ids, sizes)
        ends = np.cumsum(sizes)
        for pos, g in zip(np.flatnonzero(groups).tolist(), ids[groups].tolist(), strict=True):
            members = self.groups[-2 - g]
            out[ends[pos] - len(members) : ends[pos]] = members
        return out

    def _piece_entry(self, piece: str, lang: str) -> int:
        """A piece's entry, or -2 - g for a piece of several words (group g)."""
        words = textnorm.piece_words(piece)
        if len(words) == 1:
            return self._word_entry(words[0], lang)
        self.groups.append(tuple(self._word_entry(w, lang) for w in words))
        return -1 - len(self.groups)

    def _word_entry(self, word: str, lang: str) -> int:
        word = textnorm.collapse_repeats(word)  # as in a query ("psssss" -> "pss")
        entry = self.by_word[lang].get(word)
        if entry is None:
            entry = self.by_word[lang][word] = self._new_entry(word, lang)
        return entry

    def analyse(self, practices: Sequence[_Texts], chunks: Iterable[int]) -> _Partial:
        """A partial index of these chunks of the practices (chunk i: practices i*BUILD_CHUNK onwards): its terms,
        how many practices each has, and those practices and their weights (before rarity), term after term."""
        parts = [self._chunk(practices[i * BUILD_CHUNK : (i + 1) * BUILD_CHUNK], i * BUILD_CHUNK) for i in chunks]
        used = np.zeros(len(self.terms), dtype=bool)
        for terms, _, _ in parts:
            used[terms] = True
        used = np.flatnonzero(used)
        rank = np.zeros(len(self.terms), dtype=np.int64)
        rank[used] = np.arange(len(used), dtype=np.int64)
        names = [self.terms[i] for i in used.tolist()]
        counts, prac, wts = _scatter(
            [(rank[t], n, p, w) for terms, p, w in parts for t, n in [_runs(terms)]], len(names)
        )
        return names, counts, prac, wts

    def _chunk(self, practices: Sequence[_Texts], offset: int) -> tuple[np.ndarray, ...]:
        """(term, practice, weight index) of these practices, one per distinct (term, practice), with its best
        weight; a term's practices are next to each other."""
        word_prac, word_ent, word_field = [], [], []
        pair_prac, pair_code = [], []
        for lang in LANGS:
            for code in range(len(_FIELDS)):
                rows = [(i, plain[lang][code]) for i, plain in enumerate(practices) if lang in plain]
                if code == 1:  # several keywords per practice
                    texts = list(itertools.chain.from_iterable(kws for _, kws in rows))
                    owner = np.repeat([i for i, _ in rows], [len(kws) for _, kws in rows]).astype(np.int64)
                else:
                    texts = [text for _, text in rows]
                    owner = np.array([i for i, _ in rows], dtype=np.int64)
                if not texts:
                    continue
                ents = self.entries(texts, lang)
                stem_term = np.array(self.stem_term, dtype=np.int64)
                sep = ents == 0
                prac = owner[np.cumsum(sep)]
                meaningful = stem_term[ents] >= 0
                word_prac.append(prac[meaningful])
                word_ent.append(ents[meaningful])
                word_field.append(np.full(int(meaningful.sum()), code, dtype=np.int64))
                if code < 2:
                    # two meaningful words in a row in a title or keyword ("compressed air"), stopwords skipped
                    keep = meaningful | sep
                    e, pr = ents[keep], prac[keep]
                    both = (e[:-1] != 0) & (e[1:] != 0)
                    pair_prac.append(pr[:-1][both])
                    pair_code.append((stem_term[e[:-1][both]] << 32) | stem_term[e[1:][both]])
        if not word_prac:
            return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.int8)
        # Distinct (practice, entry), each with the best field it occurs in: sorted packed codes, last of each run.
        prac_bits = max(1, (len(practices) - 1).bit_length())
        bits = (prac_bits, len(self.stem_term).bit_length(), 3)
        packed = np.concatenate(word_prac), np.concatenate(word_ent), np.concatenate(word_field)
        ent_prac, ent, field = _unpack(_last_of_runs(np.sort(_pack(packed, bits)), 0), bits)
        # Each (practice, entry) stands for the entry's terms: its stem, then the word as written, then its
        # transliteration (each only where it differs). Transliterations only from titles and keywords, words as
        # written not from the why and safety texts: from there they changed no evaluation result, and cost time
        # and memory. So a row stands for all its entry's terms, the first `lead` of them, or the stem alone.
        counts = np.array(self.count, dtype=np.int64)[ent]
        counts = np.where(field < 2, counts, np.where(field == 2, np.array(self.lead, dtype=np.int64)[ent], 1))
        starts = np.array(self.start, dtype=np.int64)[ent]
        pos = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(int(counts.sum()))
        terms = np.array(self.flat_terms, dtype=np.int64)[pos]
        prac = np.repeat(ent_prac, counts)
        combo = np.repeat(field * len(_FACTORS), counts) + np.array(self.flat_kind, dtype=np.int64)[pos]
        # Bigrams become terms of their own ("stem1 stem2"), each made once.
        if pair_code:
            pairs = np.concatenate(pair_code)
            codes = np.unique(pairs)
            terms = np.concatenate((terms, self._bigram_terms(codes)[np.searchsorted(codes, pairs)]))
            prac = np.concatenate((prac, np.concatenate(pair_prac)))
            combo = np.concatenate((combo, np.full(len(pairs), _BIGRAM_COMBO, dtype=np.int64)))
        # Distinct (term, practice, field, kind), sorted: then one weight per (term, practice): its best field,
        # plus a little for each other field it is in (a word in the title, keywords and text of a practice
        # says more about it than the same word in one of its keywords only).
        bits = (len(self.terms).bit_length(), prac_bits, 4)
        packed = _last_of_runs(np.sort(_pack((terms, prac, combo), bits)), 0)
        terms, prac, combo = _unpack(packed, bits)
        run_start = np.concatenate(
            ([True], (packed[1:] >> packed.dtype.type(4)) != (packed[:-1] >> packed.dtype.type(4)))
        )
        run = np.cumsum(run_start) - 1
        n_runs = int(run[-1]) + 1 if len(run) else 0
        best = np.zeros(_N_SLOTS * n_runs, dtype=np.float32)  # slot after slot: reductions run along rows
        np.maximum.at(best, _COMBO_SLOT[combo] * n_runs + run, _COMBO_WEIGHT[combo])
        best = best.reshape(_N_SLOTS, n_runs)
        top = best.max(axis=0)
        wts = top + FIELD_SPREAD * (best.sum(axis=0) - top)
        return terms[run_start], (prac[run_start] + offset).astype(np.int32), wts.astype(np.float32)


def _n_chunks(practices: Sequence[_Texts]) -> int:
    return -(-len(practices) // BUILD_CHUNK)


def _processes(n_practices: int) -> int:
    """How many processes (this one included) build an index of this size."""
    if n_practices < PARALLEL_MIN or fcntl is None:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_PROCESSES, n_practices // BUILD_CHUNK))


class _Claims:
    """The library's chunks, handed out to the processes that build the index as each becomes free: this process
    takes them from the front, workers from the back, so a slow or late process simply takes fewer. A small file
    holds the next chunk from each end; a lock on it makes each claim atomic. It is read and written at a fixed
    place (pread, pwrite), so processes sharing its descriptor after a fork never disturb each other's offset."""

    def __init__(self, path: str):
        self.path = path
        self._fd = os.open(path, os.O_RDWR)

    @staticmethod
    def create(n_chunks: int) -> str:
        import tempfile

        fd, path = tempfile.mkstemp(prefix="scorebot-index-")
        os.write(fd, struct.pack("<ii", 0, n_chunks))
        os.close(fd)
        return path

    def ends(self) -> tuple[int, int]:
        """The next chunk from the front and one past the next from the back (as they stand)."""
        return struct.unpack("<ii", os.pread(self._fd, 8, 0))

    def take(self, from_back: bool) -> int | None:
        """The next chunk to analyse, or None when all are taken."""
        fcntl.lockf(self._fd, fcntl.LOCK_EX)
        try:
            front, back = self.ends()
            if front >= back:
                return None
            if from_back:
                back -= 1
                chunk = back
            else:
                chunk, front = front, front + 1
            os.pwrite(self._fd, struct.pack("<ii", front, back), 0)
            return chunk
        finally:
            fcntl.lockf(self._fd, fcntl.LOCK_UN)

    def taking(self, from_back: bool, taken: list[int]) -> Iterable[int]:
        """Chunks one at a time, each claimed only when the previous one is done; each is noted in `taken`."""
        while (chunk := self.take(from_back)) is not None:
            taken.append(chunk)
            yield chunk

    def close(self) -> None:
        os.close(self._fd)


def _worker_main() -> None:
    """A build worker process: reads (practices, claims file) pickled on stdin, analyses the chunks it can claim
    and writes its partial index on stdout."""
    import pickle
    import sys

    practices, claims_path = pickle.load(sys.stdin.buffer)
    claims = _Claims(claims_path)
    chunks: list[int] = []
    try:
        partial = _Analyser().analyse(practices, claims.taking(from_back=True, taken=chunks))
    finally:
        claims.close()
    pickle.dump((chunks, partial), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)


class _Worker:
    """Part of the library analysed in a fresh Python process. It is a plain subprocess (not multiprocessing),
    so it never re-runs the caller's main module and is safe to start from the bot, which already runs threads.
    The job and the result go through temporary files: no thread of this process has to feed a pipe meanwhile."""

    def __init__(self, practices: Sequence[_Texts], claims: _Claims):
        import pickle
        import subprocess
        import sys
        import tempfile

        self._files = contextlib.ExitStack()
        job = self._files.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (closed with self._files)
        self._result = self._files.enter_context(tempfile.TemporaryFile())  # noqa: SIM115
        try:
            pickle.dump((practices, claims.path), job, protocol=pickle.HIGHEST_PROTOCOL)
            job.seek(0)
            env = dict(os.environ)
            here = str(Path(__file__).resolve().parents[2])  # where `bot` is imported from
            env["PYTHONPATH"] = os.pathsep.join(filter(None, (here, env.get("PYTHONPATH"))))
            self._process = subprocess.Popen(
                [sys.executable, "-c", "from bot.services.matcher import _worker_main; _worker_main()"],
                stdin=job,
                stdout=self._result,
                stderr=subprocess.PIPE,
                env=env,
            )
        except BaseException:
            self._files.close()
            raise

    def result(self) -> tuple[list[int], _Partial]:
        """Waits for the worker: the chunks it analysed and their partial index; raises if it failed."""
        import pickle

        with self._files:
            try:
                _, err = self._process.communicate(timeout=600)
            finally:
                self._kill()
            if self._process.returncode != 0:
                raise RuntimeError(err.decode(errors="replace").strip()[-300:] or self._process.returncode)
            self._result.seek(0)
            return pickle.load(self._result)

    def _kill(self) -> None:
        if self._process.poll() is None:  # timed out or interrupted
            self._process.kill()
            self._process.wait()

    def stop(self) -> None:
        """Ends the worker if it still runs (the build was interrupted) and drops its files."""
        self._kill()
        self._files.close()


def _can_fork() -> bool:
    """A worker may be a fork of this process only while this process runs a single thread: a lock that another
    thread held at the fork would stay locked in the child for ever. (At the bot's start the index is built before
    any thread starts.) A fork needs no new interpreter, imports or copy of the library."""
    import sys
    import threading

    return sys.platform == "linux" and hasattr(os, "fork") and threading.active_count() == 1


class _ForkedWorker:
    """Part of the library analysed in a fork of this process; the result comes back through a temporary file."""

    def __init__(self, practices: Sequence[_Texts], claims: _Claims):
        import tempfile

        self._result = tempfile.TemporaryFile()  # noqa: SIM115 (closed in result() or stop())
        try:
            self._pid = os.fork()
        except BaseException:
            self._result.close()
            raise
        if self._pid == 0:  # the child: never returns into the caller's code
            self._run(practices, claims)

    def _run(self, practices: Sequence[_Texts], claims: _Claims) -> None:
        import pickle

        code = 1
        try:
            chunks: list[int] = []
            partial = _Analyser().analyse(practices, claims.taking(from_back=True, taken=chunks))
            pickle.dump((chunks, partial), self._result, protocol=pickle.HIGHEST_PROTOCOL)
            self._result.flush()
            code = 0
        except Exception:  # the parent sees the exit code and builds the chunks itself
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers

    def result(self) -> tuple[list[int], _Partial]:
        """Waits for the child: the chunks it analysed and their partial index; raises if it failed."""
        import pickle

        try:
            _, status = os.waitpid(self._pid, 0)
            self._pid = None
            code = os.waitstatus_to_exitcode(status)
            if code != 0:
                raise RuntimeError(f"forked worker exited with {code}")
            self._result.seek(0)
            return pickle.load(self._result)
        finally:
            self.stop()

    def stop(self) -> None:
        """Ends the child if it still runs (the build was interrupted)."""
        if self._pid is not None:
            with contextlib.suppress(OSError):
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            self._pid = None
        self._result.close()


def _partials(plain: list[_Texts]) -> list[_Partial]:
    """The library analysed in chunks; on a large library, worker processes take chunks at the same time as this
    one."""
    processes = _processes(len(plain))
    n_chunks = _n_chunks(plain)
    if processes == 1:
        return [_Analyser().analyse(plain, range(n_chunks))]
    try:
        claims = _Claims(_Claims.create(n_chunks))
    except OSError as exc:  # no temporary file here: this process does it all
        log.warning("matcher: cannot share the index build (%s); building here", exc)
        return [_Analyser().analyse(plain, range(n_chunks))]
    workers: list[_Worker | _ForkedWorker] = []
    try:
        kind = _ForkedWorker if _can_fork() else _Worker
        try:
            for _ in range(processes - 1):
                workers.append(kind(plain, claims))
        except OSError as exc:  # no processes allowed here: this process takes what is left
            log.warning("matcher: cannot start a build worker (%s); building here", exc)
        mine: list[int] = []
        partials = [_Analyser().analyse(plain, claims.taking(from_back=False, taken=mine))]
        done = set(mine)
        while workers:
            try:
                chunks, partial = workers[0].result()
            except Exception as exc:  # a worker failed: the chunks it took are built here
                log.warning("matcher: a build worker failed (%s); building its chunks here", exc)
                continue
            finally:
                workers.pop(0)
            partials.append(partial)
            done.update(chunks)
        rest = [i for i in range(n_chunks) if i not in done]
        if rest:
            partials.append(_Analyser().analyse(plain, rest))
        return partials
    finally:
        for worker in workers:  # only when the build was interrupted
            worker.stop()
        claims.close()
        os.unlink(claims.path)


def _runs(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Of a term per posting (a term's postings next to each other): each run's term and length."""
    if not len(terms):
        return terms, terms
    first = np.flatnonzero(np.concatenate(([True], terms[1:] != terms[:-1])))
    return terms[first], np.diff(np.append(first, len(terms)))


def _scatter(groups: list[tuple[np.ndarray, ...]], n_terms: int) -> tuple[np.ndarray, ...]:
    """Postings from several sources as one list, term after term, in linear time (no sort). Each source gives
    (terms, how many postings each, practices, weights), its terms distinct. Returns (postings per term,
    practices, weights); a term's postings keep the order of the sources."""
    counts = np.zeros(n_terms, dtype=np.int64)
    for terms, sizes, _, _ in groups:
        counts[terms] += sizes
    start = np.cumsum(counts) - counts
    prac = np.empty(int(counts.sum()), dtype=np.int32)
    wts = np.empty(len(prac), dtype=groups[0][3].dtype if groups else np.float32)
    index = np.int32 if len(prac) < 2**31 else np.int64  # 32-bit positions: half the memory traffic
    for terms, sizes, g_prac, g_wts in groups:
        dest = np.repeat((start[terms] - (np.cumsum(sizes) - sizes)).astype(index), sizes)
        dest += np.arange(len(g_prac), dtype=index)
        prac[dest], wts[dest] = g_prac, g_wts
        start[terms] += sizes
    return counts, prac, wts


def _merge(partials: list[_Partial]) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
    """Partial indexes of disjoint practices as one: (term -> its number; practices per term; practices;
    weights)."""
    ids = dict(zip(partials[0][0], itertools.count()))
    groups = [(np.arange(len(ids)), *partials[0][1:])]
    for names, counts, prac, wts in partials[1:]:
        ids.update(zip(set(names).difference(ids), itertools.count(len(ids))))
        groups.append((np.fromiter(map(ids.__getitem__, names), np.int64, len(names)), counts, prac, wts))
    if len(groups) == 1:
        return ids, partials[0][1], partials[0][2], partials[0][3]
    df, prac, wts = _scatter(groups, len(ids))
    return ids, df, prac, wts


class Matcher:
    """An index over a set of practices; build once, query many times (thread-safe for reading)."""

    def __init__(
        self, practices: Sequence[Practice], area_words: Mapping[str, Mapping[str, Sequence[str]]] | None = None
    ):
        """`area_words`: area -> language -> words that name the area as a whole (library.yaml's `areas`)."""
        self.practices = tuple(practices)
        self._areas = np.array([_AREA_POS[p.area] for p in self.practices], dtype=np.int8)
        # a word naming an area, as a stem and as written -> the areas it names
        self._area_terms: dict[str, set[int]] = defaultdict(set)
        for area, by_lang in (area_words or {}).items():
            for lang, words in by_lang.items():
                for word in words:
                    for w in textnorm.words(word):
                        for key in (w, textnorm.stem(w, lang)):
                            self._area_terms[key].add(_AREA_POS[area])
        self._area_terms = dict(self._area_terms)
        vocab, df, prac, wts = _merge(_partials([_plain(p) for p in self.practices]))
        n = max(len(self.practices), 1)
        idf = np.log1p(n / np.maximum(df, 1)).astype(np.float32)
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        wts *= np.repeat(idf, df)
        self._postings = Postings(vocab, indptr, prac, wts)
        self._idf_max = math.log(1.0 + n)
        # Words (not bigrams) grouped by first letter, for typo look-ups in a small bucket.
        fuzzy = sorted(k for k in vocab if len(k) >= MIN_FUZZY_LEN - 1 and " " not in k and not k.isdigit())
        self._buckets = {letter: list(words) for letter, words in itertools.groupby(fuzzy, key=operator.itemgetter(0))}
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
        vocab = self._postings.vocab
        best = None
        for i in range(3, len(word) - 2):
            left, right = word[:i], word[i:]
            if left in vocab and right in vocab:  # words; bigrams have a space
                score = min(len(left), len(right))
                if best is None or score > best[0]:
                    best = (score, [left, right])
        return best[1] if best else None

    def _expand_uncached(self, word: str, lang: str) -> tuple[tuple[str, float], ...]:
        """The index keys one typed word stands for, each with a similarity in (0, 1]."""
        stemmed = textnorm.stem(word, lang)
        keys: dict[str, float] = {}
        for k in (stemmed, word):
            if k in self._postings:
                keys[k] = 1.0
        if keys:
            return tuple(keys.items())
        parts = self._split(word)
        if parts:
            return tuple((k, 0.9) for k in (textnorm.stem(p, lang) for p in parts) if k in self._postings)
        for k in dict.fromkeys((stemmed, word)):
            for cand, sim in self._fuzzy(k):
                if sim > keys.get(cand, 0.0):
                    keys[cand] = sim
        return tuple(keys.items())

    def _query_terms(self, text: str, lang: str) -> tuple[list[list[tuple[str, float]]], list[str], set[int]]:
        """Per meaningful word of the query, its keys; the query's bigram keys; the areas its words name."""
        per_word: list[list[tuple[str, float]]] = []
        stems: list[str] = []
        seen: set[str] = set()
        areas: set[int] = set()
        for word in textnorm.content_words(text, lang):
            keys = list(self._expand(word, lang))
            if keys:
                stems.append(max(keys, key=lambda kv: kv[1])[0])
            if word in seen:
                continue
            seen.add(word)
            if keys:
                per_word.append(keys)
            for key, sim in keys:
                if sim >= AREA_WORD_MIN_SIM:
                    areas.update(self._area_terms.get(key, ()))
        return per_word, [bg for bg in _bigrams(stems) if bg in self._postings], areas

    def scores(self, text: str, lang: str = "en", area: str | None = None) -> np.ndarray:
        """One score per practice (0 = nothing in common)."""
        lang = lang if lang in LANGS else "en"
        total = np.zeros(len(self.practices), dtype=np.float32)
        if not text or not self.practices:
            return total
        per_word, bigrams, named_areas = self._query_terms(text, lang)
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
        for area_pos in named_areas:  # "se gasta harta agua": the water practices come forward
            total[self._areas == area_pos] += AREA_WORD_WEIGHT
        if area in _AREA_POS:
            total[self._areas == _AREA_POS[area]] *= AREA_BOOST
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
        """A text as weighted terms (stems weighted by their rarity in the library), for comparing two ideas. A
        misspelt word counts as the library word it stands for ("conpresor", "mangeras"), as in matching."""
        lang = lang if lang in LANGS else "en"
        out: dict[str, float] = {}
        n = max(len(self.practices), 1)
        for word in textnorm.content_words(text, lang):
            keys = self._expand(word, lang)
            best = max((sim for _key, sim in keys), default=0.0)
            # a misspelling as close to two library words ("mangeras": manguera, manager) counts half for each
            terms = list(dict.fromkeys(k for k, sim in keys if sim == best)) or [textnorm.stem(word, lang)]
            for term in terms[:1] if best == 1.0 else terms:
                posting = self._postings.get(term)
                idf = math.log(1.0 + n / len(posting[0])) if posting else self._idf_max
                out[term] = max(out.get(term, 0.0), idf / (1 if best == 1.0 else len(terms)))
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
    candidates: Iterable[tuple[int, str | Sequence[str], str]],
    threshold: float = 0.45,
    limit: int = 3,
) -> list[SimilarIdea]:
    """Existing ideas (key, text or texts, lang) whose wording is close to `text`, most similar first. With
    several texts (an idea's problem alone, and with its solution) the closest one counts: a new problem worded
    like an old one is a duplicate even though the old idea says more."""
    mine = matcher.term_weights(text, lang)
    found = []
    for key, other, other_lang in candidates:
        texts = (other,) if isinstance(other, str) else other
        score = max((similarity(mine, matcher.term_weights(t, other_lang)) for t in texts), default=0.0)
        if score >= threshold:
            found.append(SimilarIdea(key, score))
    found.sort(key=lambda s: (-s.score, s.key))
    return found[:limit]


@lru_cache(maxsize=4)
def _matcher_for(root: str | None) -> Matcher:
    from bot.services.library import load

    library = load(Path(root) if root else None)
    return Matcher(library.practices, library.area_words)


def get_matcher(root: Path | None = None) -> Matcher:
    """The process-wide matcher over the installed library (built on first use)."""
    return _matcher_for(str(root) if root else None)
