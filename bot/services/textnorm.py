"""Text normalisation shared by the library matcher and the similar-ideas check.

Turns what a worker types on a phone (any case, with or without accents, with ё or е, with Latin look-alike letters
inside Russian words, inflected, glued to punctuation or emoji) into comparable terms: one stem per word.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

from bot.domain.enums import LANGS

MAX_TEXT_CHARS = 4000  # a longer text is cut: workers' descriptions never need more, and matching stays fast
MAX_TOKENS = 120

# Characters that carry no meaning but break words apart or glue them: zero-width, bidi controls, soft hyphen.
_INVISIBLE = dict.fromkeys(
    [0x00AD, 0x034F, 0x061C, 0x180E, 0xFEFF, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070)]
)
# ... and accents left over with no precomposed letter after NFKC (which keeps "й" whole): dropped in one pass.
_DROP_RE = re.compile("[" + "".join(re.escape(chr(c)) for c in _INVISIBLE) + "\u0300-\u036f]")
_CYR = re.compile(r"[а-я]")
_LAT = re.compile(r"[a-z]")
# Latin letters that look like Cyrillic ones, as they slip into Russian words typed on mixed keyboards.
_LAT_TO_CYR = str.maketrans("aceopxykmthb", "асеорхукмтнв")
_CYR_TO_LAT_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ж": "zh", "з": "z", "и": "i", "й": "i",
    "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e",
    "ю": "yu", "я": "ya",
}  # fmt: skip

STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        (
            "a about all also an and any are as at be been being but by can could did do does down each every for less "
            "from get got had has have he here how i if in into is it its just lot lots many may me might more "
            "most much must my no not of on one or our out over shall she should so some than that the their them "
            "then there these they this those to too up us very was we were what when where which while who why will "
            "with would you your "
        ).split()
    ),
    "es": frozenset(
        (
            "a al algo algun alguna algunos ante aqui asi cada como con contra cual cuando de del desde donde dos "
            "el ella ellos en entre era eran es esa ese eso esta estamos estan estas este esto estos fue ha hace "
            "hacen hacer han hay la las le les lo los mas me menos mi mis mucho muy nada ni no nos nosotros o otra "
            "otro "
            "para pero poco por porque que quien se sea ser si siempre sin sobre son su sus tambien tan tanto te "
            "tenemos tiene tienen toda todas todo todos tu un una uno unos veces vez y ya yo "
        ).split()
    ),
    "ru": frozenset(
        (
            "а без более бы был была были было быть в вам вас весь во вообще вот все всегда всего всех всё вы где "
            "вся всю всей всем всеми "
            "да даже девать деть для до его ее если есть еще ещё её же за здесь и из или им их к каждый как ко "
            "когда кто куда ли больше меньше можно нельзя нужно "
            "либо мне много может мы на над надо нас наш не него нее нет неё ни них но ну о об однако он она они "
            "оно от очень по под постоянно при просто с сильно со так также такой там те тем то того тоже той "
            "только том ты у уже хотя чего чей чем что чтобы чье чья эта эти это я "
        ).split()
    ),
}
# Greetings, thanks and small talk: a worker answering "gracias" must not get random practices.
SMALL_TALK = frozenset(
    (
        "hola gracias muchas buenos buenas dias tardes saludos ok okay vale bien listo perfecto chao "
        "hello hi hey thanks thank cheers morning afternoon evening please yes bye "
        "mucha muchos muchas harto harta hartos hartas много многовато куча "
        # "в цеху" / "en la planta": where almost every worker is; says nothing about the problem
        "цех цеху цеха цехе цехах цехов цехе "
        "factory factories fabrica fabricas фабрика фабрике фабрики завод заводе завода "
        "привет спасибо здравствуйте добрый доброе утро вечер пожалуйста хорошо ок ладно понятно пока благодарю"
    ).split()
)
_ES_IRREGULAR = {
    "luces": "luz", "veces": "vez", "peces": "pez", "voces": "voz", "cruces": "cruz",
    # stem-changing verbs workers use for waste: "se pierde" must meet "pérdida"
    "pierde": "perder", "pierden": "perder", "pierdo": "perder", "calienta": "calentar", "calientan": "calentar",
    "enciende": "encender", "encienden": "encender", "prende": "prender", "prenden": "prender",
}  # fmt: skip


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str | None) -> str:
    """Text as stored: NUL and lone surrogates removed, nothing else touched (PRODUCT.md, "Text as sent")."""
    if not text:
        return ""
    return _SURROGATE.sub("", text.replace("\x00", ""))


@lru_cache(maxsize=4096)
def _strip_accents_latin(token: str) -> str:
    decomposed = unicodedata.normalize("NFD", token)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str, limit: int | None = MAX_TEXT_CHARS) -> str:
    """Case-folded, NFKC, invisible characters and stray combining accents dropped, ё→е; accented Latin letters
    become plain in `tokens`."""
    text = unicodedata.normalize("NFKC", text[:limit] if limit else text)
    if not text.isascii() and _DROP_RE.search(text):
        text = _DROP_RE.sub("", text)
    return text.casefold().replace("ё", "е")


def _fix_script(token: str) -> str:
    """A word mostly in Cyrillic with Latin look-alikes becomes all Cyrillic ("кoмпрессор" with a Latin o)."""
    if _CYR.search(token) and _LAT.search(token):
        cyr = len(_CYR.findall(token))
        lat = len(_LAT.findall(token))
        if cyr >= lat:
            return token.translate(_LAT_TO_CYR)
    return token


# Latin letters with accents (Latin-1 and Latin Extended) to their plain letters, for a whole text at once:
# "línea" and "linea" must be the same word. Cyrillic letters (й) are outside these ranges and kept.
_LATIN_PLAIN = {
    c: "".join(ch for ch in unicodedata.normalize("NFD", chr(c)) if not unicodedata.combining(ch))
    for c in (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00))
    if unicodedata.normalize("NFD", chr(c)) != chr(c)
}
_LATIN_ACCENTED = re.compile("[" + "".join(chr(c) for c in sorted(_LATIN_PLAIN)) + "]")
# A word is a run of letters or a run of digits ("20kw" -> "20", "kw"); underscores and symbols separate words.
_TOKEN = re.compile(r"[^\W\d_]+|\d+")


# ASCII punctuation and symbols become spaces, in the UTF-8 bytes of a text (fast for long texts).
_ASCII_BREAKS = bytes.maketrans(
    bytes(c for c in range(128) if not chr(c).isalnum()), b" " * sum(1 for c in range(128) if not chr(c).isalnum())
)


def split_pieces(folded: str) -> list[str]:
    """A folded text cut at whitespace and ASCII punctuation; a piece may still hold other symbols or digits."""
    return folded.encode("utf-8", "surrogatepass").translate(_ASCII_BREAKS).decode("utf-8", "surrogatepass").split()


def piece_words(piece: str) -> tuple[str, ...]:
    """One piece as words: cut at what is not a letter or digit ("«ahorro»", "20kw"), Latin accents removed,
    Latin look-alikes inside Cyrillic words fixed."""
    parts = (piece,) if piece.isalpha() or piece.isdecimal() else tuple(_TOKEN.findall(piece))
    if piece.isascii():
        return parts
    fixed = []
    for part in parts:
        if _LATIN_ACCENTED.search(part):
            part = part.translate(_LATIN_PLAIN)
        fixed.append(_fix_script(part))
    return tuple(fixed)


def tokens(folded: str) -> list[str]:
    """The words of a folded text, all of them, in order: runs of letters or of digits."""
    pieces = split_pieces(folded)
    fixes = {}
    for piece in set(pieces):
        if piece.isascii() and (piece.isalpha() or piece.isdecimal()):
            continue
        fixed = piece_words(piece)
        if fixed != (piece,):
            fixes[piece] = fixed
    if not fixes:
        return pieces
    return [word for piece in pieces for word in fixes.get(piece, (piece,))]


_REPEATS = re.compile(r"([^\W\d_])\1{2,}")  # a letter three or more times in a row


def collapse_repeats(word: str) -> str:
    """A letter repeated for effect kept twice: "psssss" and "psss" are one word, "fuuuga" is "fuuga"."""
    return _REPEATS.sub(r"\1\1", word) if _REPEATS.search(word) else word


def words(text: str) -> list[str]:
    """Folded words of what a worker typed: letters and digits only, letters split from digits ("20kw" -> "20",
    "kw"), letters repeated for effect cut to two ("pssss" -> "pss"), at most MAX_TOKENS of them."""
    if not text:
        return []
    folded = fold(text)
    found = tokens(folded)
    if len(found) > MAX_TOKENS:
        del found[MAX_TOKENS:]
    if _REPEATS.search(folded):
        found = [collapse_repeats(w) for w in found]
    return found


def transliterate(token: str) -> str:
    """Cyrillic to Latin (a rough, typing-oriented scheme), so "kompressor" typed in Latin finds "компрессор"."""
    return token.translate(_TRANSLIT_TABLE)


_TRANSLIT_TABLE = str.maketrans(_CYR_TO_LAT_TRANSLIT)
_STEMMERS = {"en": Stemmer.Stemmer("english"), "es": Stemmer.Stemmer("spanish"), "ru": Stemmer.Stemmer("russian")}


@lru_cache(maxsize=1)
def _morph():
    import pymorphy3

    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def stem(token: str, lang: str) -> str:
    """The comparable form of one folded word: Russian is lemmatised (pymorphy3) then stemmed; es/en stemmed. A
    Latin word in a Russian text ("led", "chiller") is stemmed as English: only "es" picks the Spanish stemmer."""
    if token.isdigit():
        return token
    if _CYR.search(token):
        lemma = _morph().parse(token)[0].normal_form.replace("ё", "е")
        return _STEMMERS["ru"].stemWord(lemma)
    if lang == "es" or lang not in LANGS:
        token = _ES_IRREGULAR.get(token, token)
    stemmer = _STEMMERS["es"] if lang == "es" else _STEMMERS["en"]
    return stemmer.stemWord(token)


def is_stopword(token: str, lang: str) -> bool:
    """True for words that say nothing about the problem (articles, pronouns, "very")."""
    if token in SMALL_TALK:
        return True
    if _CYR.search(token):
        return token in STOPWORDS["ru"]
    return token in STOPWORDS.get(lang, STOPWORDS["en"]) or (lang == "ru" and token in STOPWORDS["en"])


def content_words(text: str, lang: str) -> list[str]:
    """The words of `text` that say something: no stopwords, no single letters (single digits stay)."""
    return [w for w in words(text) if (len(w) >= 2 or w.isdigit()) and not is_stopword(w, lang)]


def terms(text: str, lang: str) -> list[str]:
    """The stems of the meaningful words of `text`, in order."""
    return [stem(w, lang) for w in content_words(text, lang)]
