"""Loads the good-practice library from `knowledge_base/`, validates it and answers questions about it.

The file format is documented in knowledge_base/README.md; this module is its schema.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from bot.domain.enums import LANGS, Area, Cost, Sector
from bot.domain.practice import Practice, PracticeText, Saving

SCHEMA_VERSION = 1
ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
MAX_ID = 40  # an id travels in callback data (64 bytes) with a short prefix
MIN_KEYWORDS = 3
_CYRILLIC = re.compile(r"[\u0400-\u04FF]")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TextSchema(_Strict):
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=90)]
    do: Annotated[str, StringConstraints(strip_whitespace=True, min_length=20, max_length=900)]
    why: Annotated[str, StringConstraints(strip_whitespace=True, min_length=10, max_length=600)]
    safety: Annotated[str, StringConstraints(strip_whitespace=True, max_length=400)] = ""
    keywords: list[Text] = Field(min_length=MIN_KEYWORDS)


class SavingSchema(_Strict):
    source: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5)]
    en: Text
    es: Text
    ru: Text


class PracticeSchema(_Strict):
    id: Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=MAX_ID)]
    area: Area
    sectors: list[Sector] = Field(min_length=1)
    cost: Cost
    en: TextSchema
    es: TextSchema
    ru: TextSchema
    savings: list[SavingSchema] = Field(default_factory=list)


class FileSchema(_Strict):
    practices: list[dict[str, Any]] = Field(min_length=1)


Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40, pattern=r"^[^\s]+$")]


class AreaWordsSchema(_Strict):
    en: list[Word] = Field(min_length=1)
    es: list[Word] = Field(min_length=1)
    ru: list[Word] = Field(min_length=1)


class ManifestSchema(_Strict):
    schema_: int = Field(alias="schema")
    version: Text
    description: str = ""
    # words that name an area as a whole ("agua", "электричество"): a worker's vague complaint still finds its area
    areas: dict[Area, AreaWordsSchema] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the library, with where it is."""

    file: str
    practice: str  # id, or "#n" when there is no usable id, or "" for the whole file
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: practice {self.practice}" if self.practice else self.file
        return f"{where}: {self.message}"


class LibraryError(Exception):
    """The library did not pass validation; `problems` says why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Library:
    """The loaded, validated library."""

    version: str
    practices: tuple[Practice, ...]
    area_words: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)  # area -> lang -> words
    by_id: dict[str, Practice] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {p.id: p for p in self.practices})

    def get(self, practice_id: str) -> Practice | None:
        """The practice with this id, or None."""
        return self.by_id.get(practice_id)

    def by_area(self, area: Area | str) -> list[Practice]:
        """Practices of one area, in library order."""
        return [p for p in self.practices if p.area == area]

    def stats(self) -> dict[str, Any]:
        """Counts per area, sector and language (the `kb stats` interface)."""
        by_area = Counter(p.area.value for p in self.practices)
        by_sector = Counter(s.value for p in self.practices for s in p.sectors)
        by_language = Counter(lang for p in self.practices for lang in p.texts)
        return {
            "version": self.version,
            "total": len(self.practices),
            "by_area": {a.value: by_area.get(a.value, 0) for a in Area},
            "by_sector": dict(sorted(by_sector.items())),
            "by_language": {lang: by_language.get(lang, 0) for lang in LANGS},
            "with_sourced_savings": sum(1 for p in self.practices if p.savings),
        }


def default_root() -> Path:
    """The installed `knowledge_base` folder (works from a checkout, an editable or a regular install)."""
    return Path(str(resources.files("knowledge_base")))


def _format_error(err: dict[str, Any]) -> str:
    loc = ".".join(str(x) for x in err["loc"])
    kind = err["type"]
    if kind == "missing" and len(err["loc"]) == 1 and err["loc"][0] in LANGS:
        return f"{loc}: translation missing"
    if kind == "missing":
        return f"{loc}: required field missing"
    if kind == "extra_forbidden":
        return f"{loc}: unknown field"
    if kind == "enum" and err["loc"][0] == "area":
        return f"area {err['input']!r} is not one of {', '.join(a.value for a in Area)}"
    if kind == "enum":
        return f"{loc}: {err['input']!r} is not one of {err['ctx'].get('expected', '')}"
    if kind == "too_short" and err["loc"][-1] == "keywords":
        return f"{loc}: needs at least {MIN_KEYWORDS} keywords"
    return f"{loc}: {err['msg']}"


def _language_problems(schema: PracticeSchema) -> list[str]:
    """Catches a text pasted into the wrong language (the usual slip when translating by hand)."""
    found = []
    for lang in LANGS:
        t: TextSchema = getattr(schema, lang)
        for field_name in ("title", "do"):
            has_cyrillic = bool(_CYRILLIC.search(getattr(t, field_name)))
            if lang == "ru" and not has_cyrillic:
                found.append(f"ru.{field_name}: no Russian (Cyrillic) text")
            elif lang != "ru" and has_cyrillic:
                found.append(f"{lang}.{field_name}: contains Cyrillic text")
    return found


def _to_practice(schema: PracticeSchema, file: str) -> Practice:
    texts = {}
    for lang in LANGS:
        t: TextSchema = getattr(schema, lang)
        texts[lang] = PracticeText(title=t.title, do=t.do, why=t.why, safety=t.safety, keywords=tuple(t.keywords))
    savings = tuple(Saving(text={lang: getattr(s, lang) for lang in LANGS}, source=s.source) for s in schema.savings)
    return Practice(
        id=schema.id,
        area=schema.area,
        sectors=tuple(dict.fromkeys(schema.sectors)),
        cost=schema.cost,
        texts=texts,
        savings=savings,
        file=file,
    )


def _read_yaml(path: Path, root: Path, problems: list[Problem]) -> Any:
    rel = str(path.relative_to(root))
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        problems.append(Problem(rel, "", f"not valid YAML{where}: {getattr(e, 'problem', e)}"))
    except (OSError, UnicodeDecodeError) as e:
        problems.append(Problem(rel, "", f"cannot be read: {e}"))
    return None


def _comment_problems(path: Path, rel: str) -> list[Problem]:
    """A ` #` in an unquoted value starts a YAML comment and silently cuts the value ("Tip Sheet #3")."""
    found = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return found
    for n, line in enumerate(lines, start=1):
        body = line.lstrip()
        if body.startswith("#") or " #" not in body:
            continue
        before = body[: body.index(" #")]
        value = before.split(":", 1)[1].strip() if ":" in before else before.lstrip("- ").strip()
        if value and value[0] not in "'\"[{|>" and before.count('"') % 2 == 0 and before.count("'") % 2 == 0:
            found.append(Problem(rel, "", f"line {n}: ' #' starts a YAML comment and cuts this value; quote the value"))
    return found


def validate(root: Path | None = None) -> tuple[Library | None, list[Problem]]:
    """Loads every file under `root` and returns the library (None if any problem) and all problems found."""
    root = Path(root) if root else default_root()
    problems: list[Problem] = []
    version = "unversioned"
    area_words: dict[str, dict[str, tuple[str, ...]]] = {}
    manifest_path = root / "library.yaml"
    if not manifest_path.is_file():
        problems.append(Problem("library.yaml", "", "manifest missing (needs `schema` and `version`)"))
    else:
        raw = _read_yaml(manifest_path, root, problems)
        if raw is not None:
            try:
                manifest = ManifestSchema.model_validate(raw)
                version = manifest.version
                area_words = {
                    area.value: {lang: tuple(getattr(words, lang)) for lang in LANGS}
                    for area, words in manifest.areas.items()
                }
                if manifest.schema_ != SCHEMA_VERSION:
                    problems.append(
                        Problem(
                            "library.yaml",
                            "",
                            f"schema {manifest.schema_} is not supported (expected {SCHEMA_VERSION})",
                        )
                    )
            except ValidationError as e:
                problems.extend(Problem("library.yaml", "", _format_error(err)) for err in e.errors())

    files = sorted((root / "practices").glob("**/*.yaml")) if (root / "practices").is_dir() else []
    if not files:
        problems.append(Problem("practices/", "", "no practice files (*.yaml) found"))

    practices: list[Practice] = []
    seen_ids: dict[str, str] = {}
    seen_titles: dict[tuple[str, str], str] = {}
    for path in files:
        rel = str(path.relative_to(root))
        raw = _read_yaml(path, root, problems)
        problems.extend(_comment_problems(path, rel))
        if raw is None:
            if path.stat().st_size == 0:
                problems.append(Problem(rel, "", "empty file"))
            continue
        try:
            doc = FileSchema.model_validate(raw)
        except ValidationError as e:
            problems.extend(Problem(rel, "", _format_error(err)) for err in e.errors())
            continue
        for n, item in enumerate(doc.practices, start=1):
            label = str(item.get("id")) if isinstance(item, dict) and isinstance(item.get("id"), str) else f"#{n}"
            try:
                schema = PracticeSchema.model_validate(item)
            except ValidationError as e:
                problems.extend(Problem(rel, label, _format_error(err)) for err in e.errors())
                continue
            problems.extend(Problem(rel, label, msg) for msg in _language_problems(schema))
            if schema.id in seen_ids:
                problems.append(Problem(rel, label, f"duplicate id (first used in {seen_ids[schema.id]})"))
                continue
            seen_ids[schema.id] = rel
            for lang in LANGS:
                key = (lang, getattr(schema, lang).title.casefold())
                if key in seen_titles:
                    problems.append(
                        Problem(rel, label, f"{lang}.title duplicates the title of practice {seen_titles[key]}")
                    )
                else:
                    seen_titles[key] = schema.id
            practices.append(_to_practice(schema, rel))
    if problems:
        return None, problems
    return Library(version=version, practices=tuple(practices), area_words=area_words), []


def load(root: Path | None = None) -> Library:
    """The validated library; raises LibraryError listing every problem."""
    library, problems = validate(root)
    if library is None:
        raise LibraryError(problems)
    return library
