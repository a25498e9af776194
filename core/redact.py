"""Removing personal data from free-text answers before they are quoted.

:func:`redact` replaces e-mail addresses, phone numbers, personnummer and samordningsnummer,
and names with markers (``[e-post]``, ``[telefon]``, ``[personnummer]``, ``[namn]``). It errs
on the side of removing: a number shaped like a personnummer goes even with a wrong check digit.
Names are the ``known_names`` given (the participant's, staff names) and a list of common first
names in Sweden. A listed name that is also an ordinary word ("Hans", "Per", "Klara") is taken
as a name only when capitalised in the middle of a sentence; the others in any case anywhere.
Years, dates and counts ("2023", "2023-05-01", "3 gånger i veckan") are left alone.

The text is normalised first (:func:`normalise`), since people do not type as forms expect:
Unicode NFKC (fullwidth letters and digits), every Unicode digit as an ASCII digit (Arabic-Indic
``١٩٨٥``), every dash as ``-`` (phones autocorrect ``-`` to ``–``) and every run of spaces as one
space; dots and slashes count as separators in numbers (``850312.1234``, ``070/1234567``). A first
name followed by a capitalised word ("Anna Svensson") loses both, and a name of the participant's
own record (``names``) goes wherever it stands. The redacted text is the normalised one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

MARKERS = {
    "personnummer": "[personnummer]",
    "phone": "[telefon]",
    "email": "[e-post]",
    "name": "[namn]",
}


def _names(words: str) -> frozenset[str]:
    """The names in a space-separated string, as a set."""
    return frozenset(words.split())


_FIRST_NAMES = _names(
    """
    anna eva maria karin sara kristina christina lena emma kerstin marie malin ingrid jenny hanna
    linda annika susanne elin monica birgitta sofia johanna carina elisabeth julia ulla katarina
    linnea linnéa emelie ida helena camilla åsa anneli sandra gunilla anita marianne margareta
    maja ebba elsa alice astrid wilma alva olivia ella agnes freja ellen moa matilda frida amanda
    josefin therese caroline louise jessica petra angelica cecilia ulrika veronica madeleine sofie
    nathalie rebecka tove stina signe tilda selma vera ronja nora alma stella molly ines
    lars mikael michael anders johan erik peter thomas daniel fredrik andreas stefan mats marcus
    magnus jonas mattias bengt alexander niklas oskar oscar martin henrik sven nils leif patrik
    joakim emil christer david robert göran simon kjell rickard tobias viktor filip jonathan
    sebastian gustav hugo william liam lucas elias oliver noah adam axel theo isak ludvig anton
    olle jakob kevin rasmus linus pontus roger ulf lennart ove rolf tommy jimmy ola jesper
    kristoffer jörgen christian håkan kent torbjörn
    mohammed mohamed muhammad mohammad ahmed ahmad ali hassan hussein omar abdi abdullahi yusuf
    yousef ibrahim mustafa khalid mahmoud hamza samir karim amir reza mehdi hamid mehmet ayman
    tariq bilal abdullah osman ismail jamal nasser rami sami fatima fatma amina aisha leila layla
    maryam mariam zahra zainab nour noor yasmin hiba hodan fadumo hawa asha sahra ayan yonas
    tesfay semhar senait filmon yohannes merhawi helen ewa katarzyna piotr ivan olga natalia
    dragan jelena emir elif nadia sana rana mona huda salma samira shirin parisa arash
    """
)
#: Listed names that are also ordinary words: names only when capitalised mid-sentence.
_WORD_NAMES = _names(
    "hans per bo dag tor sten stig björn karl klara maj jan said lisa saga lova dina milan lina"
)
_LISTED_NAMES = _FIRST_NAMES | _WORD_NAMES
_ARABIC_NAMES = _names(
    "محمد أحمد احمد فاطمة مريم يوسف إبراهيم ابراهيم مصطفى سارة ليلى عائشة زينب حسين محمود"
    " عبدالله خالد"
)

_SEP = r"(?:[ ]?[-./][ ]?|[ ])?"
_EMAIL = re.compile(  # the local part may hold any letter: åsa.ström@kommun.se
    r"[\w!#$%&'*+/=?^`{|}~.-]+@(?:[^\W_]|-)+(?:\.(?:[^\W_]|-)+)*\.(?:[^\W_]|-){2,}"
)
#: North American numbers, ``(555) 123-4567`` and ``555-123-4567``.
_FOREIGN_PHONE = re.compile(r"(?<![\d+])(?:\(\d{3}\)[ ]?|\d{3}[-. ])\d{3}[-. ]\d{4}(?!\d)")
_INTERNATIONAL_PHONE = re.compile(
    rf"(?<![\d+])(?:\+|00)\s?\d{{1,3}}{_SEP}(?:\(0\){_SEP})?\d(?:{_SEP}\d){{5,13}}(?!\d)"
)
_PERSONNUMMER = re.compile(
    r"(?<![\d+])(?:19|20)?\d\d(?:0[1-9]|1[0-2])(?:[0-2]\d|3[01]|[6-8]\d|9[01])"
    r"(?P<sep>[ ]?[-+./][ ]?|[ ])?\d{4}(?!\d)"
)
_NATIONAL_PHONE = re.compile(
    rf"(?<![\d+])(?:\(0\d{{1,3}}\)|0\d{{1,3}}){_SEP}\d(?:{_SEP}\d){{4,8}}(?!\d)"
)
_WORD = re.compile(r"[^\W\d_]+")
_MARKER = re.compile("|".join(re.escape(m) for m in MARKERS.values()))
#: A capitalised word right after a removed name: the surname ("[namn] Svensson").
_SURNAME_AFTER_NAME = re.compile(r"(\[namn\])[ ]([^\W\d_]+(?:['’-][^\W\d_]+)*)")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u2043\ufe58\ufe63\uff0d\u058a\u05be\u1806\u2e3a\u2e3b]")
_SPACES = re.compile(r"[^\S\n]+")
_DATE = re.compile(r"\d{1,2}[-./ ]\d{1,2}[-./ ](?:19|20)?\d\d")
_OPENING = " \t\"'”“(-–"
_ARABIC_NAME = re.compile(  # a whole Arabic word, or one after the conjunction و ("and")
    rf"(?:(?<![\u0600-\u06ff])|(?<=(?<![\u0600-\u06ff])و))(?:{'|'.join(sorted(_ARABIC_NAMES))})"
    r"(?![\u0600-\u06ff])"
)


@dataclass(frozen=True)
class Redacted:
    """Text with personal data replaced by markers, and the kinds of data that were removed.

    ``removed`` holds ``personnummer``, ``phone``, ``email`` and ``name`` for each kind found.
    """

    text: str
    removed: frozenset[str]


def normalise(text: str) -> str:
    """``text`` in NFKC with ASCII digits, ``-`` for every dash and one space for each run."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)
    text = _DASHES.sub("-", text)
    return _SPACES.sub(" ", text)


def redact(text: str, *, known_names: Iterable[str] = (), names: Iterable[str] = ()) -> Redacted:
    """Replace e-mail addresses, phone numbers, personnummer and names in ``text`` with markers.

    The text is normalised first (:func:`normalise`). ``known_names`` and ``names`` (the
    participant's own, full or single names) are removed wherever they stand as whole words,
    in any case, and each of their parts too. Redacting twice changes nothing more.
    """
    text = normalise(text)
    known = _known_names_pattern([*known_names, *names])
    removed: set[str] = set()
    while True:  # until nothing changes: a removal can uncover a neighbour ("1234+070…")
        redacted = _redact_once(text, known, removed)
        if redacted == text:
            return Redacted(text, frozenset(removed))
        text = redacted


def _redact_once(text: str, known: re.Pattern[str] | None, removed: set[str]) -> str:
    """One pass of every kind, in an order where no later pattern eats an earlier one's match."""
    text = _replace(_EMAIL, text, lambda m: "email", removed)
    text = _replace(_INTERNATIONAL_PHONE, text, _international_phone_kind, removed)
    text = _replace(_PERSONNUMMER, text, _number_kind, removed)
    text = _replace(_NATIONAL_PHONE, text, _national_phone_kind, removed)
    text = _replace(_FOREIGN_PHONE, text, _national_phone_kind, removed)
    if known is not None:
        text = _replace(known, text, lambda m: "name", removed)
    text = _replace(_WORD, text, _listed_name_kind, removed)
    text = _replace(_ARABIC_NAME, text, lambda m: "name", removed)
    return _SURNAME_AFTER_NAME.sub(_surname, text)


def _surname(match: re.Match[str]) -> str:
    """The name marker alone when the word after it is capitalised (a surname)."""
    word = match.group(2)
    return match.group(1) if word[0].isupper() and word not in MARKERS.values() else match.group()


def _replace(
    pattern: re.Pattern[str],
    text: str,
    kind_of: Callable[[re.Match[str]], str | None],
    removed: set[str],
) -> str:
    """Replace each match that ``kind_of`` names with that kind's marker, outside markers."""

    def replace(match: re.Match[str]) -> str:
        kind = kind_of(match)
        if kind is None:
            return match.group()
        removed.add(kind)
        return MARKERS[kind]

    pieces = _MARKER.split(text)
    markers = _MARKER.findall(text)
    out = [pattern.sub(replace, pieces[0])]
    for marker, piece in zip(markers, pieces[1:], strict=True):
        out += [marker, pattern.sub(replace, piece)]
    return "".join(out)


def _phone_kind(number: str) -> str | None:
    """``phone`` when the match has enough digits to be a phone number (8 or more)."""
    return "phone" if sum(c.isdigit() for c in number) >= 8 else None


def _international_phone_kind(match: re.Match[str]) -> str | None:
    """``phone`` for +/00 numbers, except 00… shaped like a personnummer (born 2000–2009)."""
    number = match.group()
    return None if _PERSONNUMMER.fullmatch(number) else _phone_kind(number)


def _national_phone_kind(match: re.Match[str]) -> str | None:
    """``phone`` for a Swedish number of 8 digits or more that is not a date (05-01-2023)."""
    return None if _DATE.fullmatch(match.group()) else _phone_kind(match.group())


def _number_kind(match: re.Match[str]) -> str | None:
    """``personnummer`` for a personnummer-shaped number, else None to leave it to phones.

    Twelve digits, a ``-``/``+`` separator or a right check digit make it a personnummer;
    ten bare digits with a wrong check digit are one too, unless they start with 0 (a phone).
    """
    digits = "".join(c for c in match.group() if c.isdigit())
    if len(digits) == 12 or match.group("sep") in ("-", "+") or _luhn_ok(digits[-10:]):
        return "personnummer"
    return None if digits.startswith("0") else "personnummer"


def _luhn_ok(digits: str) -> bool:
    """True when the last digit is the Luhn check digit of the nine before it."""
    total = 0
    for index, char in enumerate(digits[:9]):
        product = int(char) * (2 - index % 2)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10 == int(digits[9])


def _known_names_pattern(names: Iterable[str]) -> re.Pattern[str] | None:
    """A whole-word, case-insensitive pattern for the names and their parts, longest first."""
    full = {" ".join(name.split()) for name in names}
    words = {word for name in full for word in name.split(" ") if _is_name_word(word)}
    full = {name for name in full if name and all(map(_is_name_word, name.split(" ")))}
    alternatives = sorted(words | full, key=len, reverse=True)
    if not alternatives:
        return None
    body = "|".join(re.escape(a).replace(r"\ ", r"\s+") for a in alternatives)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def _is_name_word(word: str) -> bool:
    """True for a word made of letters, with inner hyphens or apostrophes (Anna-Karin, O'Neil)."""
    return re.fullmatch(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", word) is not None


def _listed_name_kind(match: re.Match[str]) -> str | None:
    """``name`` when the word is a listed first name that, by the rules above, is used as one."""
    word = match.group()
    lower = word.lower()
    base = lower[:-1] if lower.endswith("s") and lower[:-1] in _LISTED_NAMES else lower
    if base in _FIRST_NAMES:
        return "name"
    if base not in _WORD_NAMES or not word.istitle():
        return None
    before = match.string[max(0, match.start() - 40) : match.start()].rstrip(_OPENING)
    starts_sentence = not before or before[-1] in ".!?:\n"
    return None if starts_sentence else "name"
