"""Coding free-text survey answers into themes with an editable codebook.

The codebook (``core/data/surveys/codebook.yaml``) lists the themes of "what has been most useful" with
their labels and matching terms in Swedish, English and Arabic. :func:`code_text` gives the
themes of one answer: words are lower-cased, stemmed (Snowball) and matched against the terms
(the syntax is explained at the top of the file); a term right after a negation ("inte gruppen")
does not count, except relief terms, which name the trouble a theme eases ("mindre stress").
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, NamedTuple

import snowballstemmer
import yaml

from core.data import SURVEYS
from core.errors import DomainError
from core.i18n import N_

#: The codebook's languages (labels and terms): staff read the labels, so not every survey language.
CODEBOOK_LANGUAGES = ("sv", "en", "ar")
CODEBOOK_PATH = SURVEYS / "codebook.yaml"
TERM_KEYS = ("sv_stems", "sv_phrases", "en_terms", "ar_terms", "relief_terms", "except_terms")
_THEME_KEYS = frozenset({"code", "labels", "description", *TERM_KEYS})
_CODE = re.compile(r"[a-z][a-z0-9_]*\Z")


class CodebookError(DomainError):
    """The codebook file cannot be used; the message names the file, the theme and the reason."""

    def __init__(self, file: Path | str, theme: str, reason: str) -> None:
        message = N_("Kodboken {file}, tema {theme}: {reason}")
        super().__init__(message, file=str(file), theme=theme, reason=reason)

    def __str__(self) -> str:
        return self.render()


@dataclass(frozen=True)
class Theme:
    """One theme: its code, labels per language, a Swedish description and its matching terms.

    ``sv_stems`` are Swedish words, ``sv_phrases`` Swedish phrases, ``en_terms``/``ar_terms``
    either; ``relief_terms`` count even when negated, ``except_terms`` never count (any language).
    """

    code: str
    labels: Mapping[str, str] = field(hash=False)
    description: str
    sv_stems: tuple[str, ...] = ()
    sv_phrases: tuple[str, ...] = ()
    en_terms: tuple[str, ...] = ()
    ar_terms: tuple[str, ...] = ()
    relief_terms: tuple[str, ...] = ()
    except_terms: tuple[str, ...] = ()

    def label(self, language: str = "sv") -> str:
        """The label in ``language``, the Swedish one when there is none."""
        return self.labels.get(language) or self.labels["sv"]


@dataclass(frozen=True)
class Codebook:
    """The themes in report order; ``version`` is the sha256 of the file the themes came from."""

    themes: tuple[Theme, ...]
    version: str

    @property
    def codes(self) -> tuple[str, ...]:
        """The theme codes in codebook order."""
        return tuple(theme.code for theme in self.themes)

    def label(self, code: str, language: str = "sv") -> str:
        """The label of theme ``code`` in ``language``; the code itself when unknown."""
        return next((theme.label(language) for theme in self.themes if theme.code == code), code)

    @cached_property
    def _coder(self) -> _Coder:
        return _Coder(self.themes)


def load_codebook(path: Path | None = None) -> Codebook:
    """Read and check a codebook file (default ``core/data/surveys/codebook.yaml``).

    Raises :class:`CodebookError` naming the file, the theme and the reason when the file is
    not valid YAML (with its line), has an unknown key, a duplicate code or a theme without terms.
    """
    path = path or CODEBOOK_PATH
    content = path.read_bytes()
    try:
        data = yaml.safe_load(content)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else "?"
        raise CodebookError(path, "–", N_("ogiltig YAML på rad {line}").format(line=line)) from exc
    if not (
        isinstance(data, dict) and set(data) == {"themes"} and isinstance(data["themes"], list)
    ):
        raise CodebookError(path, "–", N_("filen ska ha en enda nyckel, themes, med en lista"))
    themes: list[Theme] = []
    for number, entry in enumerate(data["themes"], start=1):
        theme = _theme_from(entry, path, number)
        if theme.code in {t.code for t in themes}:
            raise CodebookError(path, theme.code, N_("koden finns redan tidigare i filen"))
        themes.append(theme)
    if not themes:
        raise CodebookError(path, "–", N_("inga teman"))
    return Codebook(tuple(themes), hashlib.sha256(content).hexdigest())


@cache
def default_codebook() -> Codebook:
    """The built-in codebook (``core/data/surveys/codebook.yaml``), read once."""
    return load_codebook()


def code_text(text: str, codebook: Codebook) -> list[str]:
    """The theme codes of one answer, in codebook order: several, one or none."""
    found = codebook._coder.theme_indexes(text)
    return [theme.code for index, theme in enumerate(codebook.themes) if index in found]


def _theme_from(entry: object, path: Path, number: int) -> Theme:
    """Check one theme entry of the file and build its :class:`Theme`."""
    name = str(entry.get("code", f"nr {number}")) if isinstance(entry, dict) else f"nr {number}"

    def fail(reason: str, **params: object) -> CodebookError:
        return CodebookError(path, name, reason.format(**params))

    if not isinstance(entry, dict):
        raise fail(N_("ett tema ska vara en mappning med code, labels, description och termer"))
    unknown = sorted(set(map(str, entry)) - _THEME_KEYS)
    if unknown:
        raise fail(N_("okänd nyckel {key}"), key=unknown[0])
    if not isinstance(entry.get("code"), str) or not _CODE.match(entry["code"]):
        raise fail(N_("code ska vara små bokstäver a–z, siffror och _"))
    labels = entry.get("labels")
    if not isinstance(labels, dict) or set(labels) != set(CODEBOOK_LANGUAGES):
        raise fail(N_("labels ska ha en text för vart och ett av sv, en och ar"))
    if not all(map(_is_text, [*labels.values(), entry.get("description")])):
        raise fail(N_("labels och description får inte vara tomma"))
    terms = {key: _terms(entry.get(key, []), key, fail) for key in TERM_KEYS}
    if not any(terms[key] for key in TERM_KEYS[:4]):
        raise fail(N_("inga termer"))
    return Theme(entry["code"], dict(labels), entry["description"].strip(), **terms)


def _terms(value: Any, key: str, fail: Callable[..., CodebookError]) -> tuple[str, ...]:
    """Check one list of terms: non-empty strings, single words or phrases as the key says."""
    if not isinstance(value, list) or not all(map(_is_text, value)):
        raise fail(N_("{key} ska vara en lista med icke-tomma texter"), key=key)
    terms = tuple(" ".join(t.split()) for t in value)
    for term in terms:
        words = term.split(" ")
        if key in ("sv_stems", "except_terms") and len(words) > 1:
            raise fail(N_("{term} i {key} har flera ord men ska vara ett enda"), term=term, key=key)
        if key == "sv_phrases" and len(words) == 1:
            raise fail(N_("{term} i sv_phrases är ett enda ord; lägg det i sv_stems"), term=term)
        if any("*" in w.strip("*") or not w.strip("*") for w in words):
            raise fail(N_("{term}: * får bara stå först eller sist i ett ord"), term=term)
    return terms


def _is_text(value: object) -> bool:
    """True for a string with something besides white space."""
    return isinstance(value, str) and bool(value.strip())


def _set(words: str) -> frozenset[str]:
    """The words of a space-separated string, as a set."""
    return frozenset(words.split())


_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_CLAUSE_BREAK = re.compile(r"[.,;:!?()\[\]\"”“\n]+|\s[-–—]\s")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_ARABIC_MARKS = re.compile(r"[\u064b-\u065f\u0670\u0640]")
_ARABIC_LETTERS = str.maketrans("أإآٱى", "اااای")
_ARABIC_PREFIXES = ("وبال", "وال", "فال", "بال", "كال", "لل", "و", "ف")
_FOLD = str.maketrans("åäöéèüáàæø", "aaoeeuaaao")
_NEGATORS = _set(
    "inte ej icke aldrig inget ingen inga ingenting varken not no never nothing none neither nor"
    " don't didn't doesn't isn't wasn't aren't haven't hasn't can't cannot won't dont didnt"
    " لا لم لن ليس لست ليست لسنا بدون"
)
_NOT_NEGATING_NEXT = _set("bara minst enbart endast only just")  # "inte bara X utan Y"
_FILLERS = _set("mycket så lite väldigt ganska mer mera mkt very much really so more lot")
_CLAUSE_WORDS = _set("men but لكن")
_POST_STOP = _set("som att och eller när that and or who which")
_ENGLISH = _set("the and my to with of is was have it me for an feel been got")
_SWEDISH = _set("och att jag det som med har mig en är på av för till var min mitt")
_STEMMERS = {
    lang: snowballstemmer.stemmer(name)
    for lang, name in (("sv", "swedish"), ("en", "english"), ("ar", "arabic"))
}


def _stem(word: str, language: str) -> str:
    """The Snowball stem of one lower-case word."""
    return str(_STEMMERS[language].stemWord(word))


def _forms(word: str, language: str) -> frozenset[str]:
    """The forms a term can match in one word: the word and its stems (hyphen parts too)."""
    if language == "ar":
        bare = [word[len(p) :] for p in _ARABIC_PREFIXES if word.startswith(p)]
        return frozenset({word, *(_stem(w, "ar") for w in (word, *bare[:1]) if len(w) > 2)})
    parts = {word.replace("-", "").replace("'", ""), *word.split("-")} if "-" in word else {word}
    return frozenset(f.translate(_FOLD) for p in parts for f in (p, _stem(p, language)))


def _normalise(text: str) -> str:
    """NFKC, lower case, Arabic marks and letter variants unified, curly apostrophes straight."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'")
    return _ARABIC_MARKS.sub("", text).translate(_ARABIC_LETTERS)


def _words(text: str) -> Iterator[tuple[int, str]]:
    """The words of ``text`` with their clause number (punctuation and "men" start a clause)."""
    clause = 0
    for clause_text in _CLAUSE_BREAK.split(_normalise(text)):
        clause += 1
        for word in _WORD.findall(clause_text):
            if word in _CLAUSE_WORDS:
                clause += 1
            else:
                yield clause, word


def _one_typo(word: str, literal: str) -> bool:
    """True when ``word`` is ``literal`` with one letter wrong, swapped, missing or doubled."""
    if word == literal or word[:1] != literal[:1] or abs(len(word) - len(literal)) > 1:
        return False
    if len(word) == len(literal):
        diff = [i for i, (a, b) in enumerate(zip(word, literal, strict=True)) if a != b]
        swapped = len(diff) == 2 and diff[1] == diff[0] + 1 and word[diff[0]] == literal[diff[1]]
        return len(diff) == 1 or (swapped and word[diff[1]] == literal[diff[0]])
    if len(word) < len(literal):
        return any(literal[:i] + literal[i + 1 :] == word for i in range(len(literal)))
    doubled = (i for i in range(1, len(word)) if word[i] == word[i - 1])
    return any(word[:i] + word[i + 1 :] == literal for i in doubled)


class _Token(NamedTuple):
    """One word of an answer: its clause, whether it negates, the patterns and excepted themes."""

    word: str
    clause: int
    negates: bool
    terms: _Terms
    patterns: frozenset[int]
    excepted: frozenset[int]


class _Hit(NamedTuple):
    """A term found in an answer: theme index, relief or not, token span [start, end)."""

    theme: int
    relief: bool
    start: int
    end: int


class _Terms:
    """The terms of one language, indexed by word pattern, with the patterns of each word cached."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.kinds: dict[str, dict[str, int]] = {"stem": {}, "start": {}, "end": {}, "in": {}}
        self.words: dict[int, list[tuple[int, bool]]] = {}
        self.phrases: dict[int, list[tuple[tuple[int, ...], int, bool]]] = {}
        self.excepts: dict[int, set[int]] = {}
        self._cache: dict[str, frozenset[int]] = {}

    def add(self, term: str, theme: int, kind: str) -> None:
        """Index a term (word or phrase) of ``theme``; kind is term, relief or except."""
        ids = tuple(self._pattern(w) for w in term.split(" ") if w not in _FILLERS)
        if kind == "except":
            self.excepts.setdefault(ids[0], set()).add(theme)
        elif len(ids) == 1:
            self.words.setdefault(ids[0], []).append((theme, kind == "relief"))
        elif ids:
            self.phrases.setdefault(ids[0], []).append((ids, theme, kind == "relief"))

    def _pattern(self, word: str) -> int:
        """The id of the pattern for one term word (``gym*``, ``*grupp``, ``samtal``)."""
        kind = {(True, True): "in", (True, False): "end", (False, True): "start"}.get(
            (word.startswith("*"), word.endswith("*")), "stem"
        )
        literal = _normalise(word.strip("*"))
        literal = _stem(literal, self.language) if kind == "stem" else literal
        literal = literal if self.language == "ar" else literal.translate(_FOLD)
        self._cache.clear()
        count = sum(map(len, self.kinds.values()))
        return self.kinds[kind].setdefault(literal, count)

    def match(self, word: str) -> frozenset[int]:
        """The ids of the patterns ``word`` matches (typo-tolerant for long Latin stems)."""
        if word not in self._cache:
            if len(self._cache) > 50_000:
                self._cache.clear()
            forms = _forms(word, self.language)
            found = frozenset(i for f in forms for i in self._exact(f))
            if not found and self.language != "ar":
                found = frozenset(self._typo(min(forms, key=len)))
            self._cache[word] = found
        return self._cache[word]

    def _exact(self, form: str) -> Iterator[int]:
        stems, starts, ends, inside = self.kinds.values()
        if form in stems:
            yield stems[form]
        for end in range(1, len(form) + 1):
            if form[:end] in starts:
                yield starts[form[:end]]
            if form[-end:] in ends:
                yield ends[form[-end:]]
        yield from (pattern for literal, pattern in inside.items() if literal in form)

    def _typo(self, stem: str) -> Iterator[int]:
        for literals in (self.kinds["stem"], self.kinds["start"]):
            yield from (p for lit, p in literals.items() if len(lit) >= 6 and _one_typo(stem, lit))


class _Coder:
    """A codebook compiled for fast coding: the terms of each language."""

    def __init__(self, themes: tuple[Theme, ...]) -> None:
        self.terms = {lang: _Terms(lang) for lang in CODEBOOK_LANGUAGES}
        for index, theme in enumerate(themes):
            for lang, term, kind in _theme_terms(theme):
                self.terms[lang].add(term, index, kind)

    def theme_indexes(self, text: str) -> set[int]:
        """The indexes of the themes found in ``text``, negated terms left out."""
        tokens = self._tokens(list(_words(text)))
        hits = (hit for hit in _hits(tokens) if hit.theme not in tokens[hit.start].excepted)
        return {hit.theme for hit in hits if hit.relief or not _negated(hit, tokens)}

    def _tokens(self, words: list[tuple[int, str]]) -> list[_Token]:
        """The words that matter, with the terms of their language (Arabic by script)."""
        english = sum(w in _ENGLISH for _, w in words) > sum(w in _SWEDISH for _, w in words)
        tokens = []
        for position, (clause, word) in enumerate(words):
            if word in _FILLERS:
                continue
            terms = self.terms["ar" if _ARABIC.match(word) else "en" if english else "sv"]
            following = words[position + 1][1] if position + 1 < len(words) else ""
            negates = word in _NEGATORS and following not in _NOT_NEGATING_NEXT
            patterns = terms.match(word)
            excepted = frozenset(t for p in patterns for t in terms.excepts.get(p, ()))
            tokens.append(_Token(word, clause, negates, terms, patterns, excepted))
        return tokens


def _hits(tokens: list[_Token]) -> Iterator[_Hit]:
    """Every term found: single words, and phrases whose words follow in one clause."""
    for start, token in enumerate(tokens):
        for pattern in token.patterns:
            for theme, relief in token.terms.words.get(pattern, ()):
                yield _Hit(theme, relief, start, start + 1)
            for ids, theme, relief in token.terms.phrases.get(pattern, ()):
                following = tokens[start + 1 : start + len(ids)]
                if len(following) == len(ids) - 1 and all(
                    i in t.patterns and t.clause == token.clause
                    for i, t in zip(ids[1:], following, strict=True)
                ):
                    yield _Hit(theme, relief, start, start + len(ids))


def _negated(hit: _Hit, tokens: list[_Token]) -> bool:
    """True when a negation stands up to three words before the term, or two after it."""
    clause = tokens[hit.start].clause
    if any(t.negates and t.clause == clause for t in tokens[max(0, hit.start - 3) : hit.start]):
        return True
    for token in tokens[hit.end : hit.end + 2]:
        if token.clause != clause or token.word in _POST_STOP:
            return False
        if token.negates:
            return True
    return False


def _theme_terms(theme: Theme) -> Iterator[tuple[str, str, str]]:
    """(language, term, kind) for every term of ``theme``; kind is term, relief or except."""
    by_language = {"sv": theme.sv_stems + theme.sv_phrases, "en": theme.en_terms}
    yield from ((lang, term, "term") for lang, terms in by_language.items() for term in terms)
    yield from (("ar", term, "term") for term in theme.ar_terms)
    for kind, terms in (("relief", theme.relief_terms), ("except", theme.except_terms)):
        for term in terms:
            for lang in ("ar",) if _ARABIC.search(term) else ("sv", "en"):
                yield lang, term, kind
