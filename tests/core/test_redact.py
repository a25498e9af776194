"""Specification of redaction: personal data out of free text, ordinary words and numbers kept."""

from __future__ import annotations

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.redact import Redacted, redact


def with_check_digit(nine: str) -> str:
    """Append the Luhn check digit to nine digits (written out here, independent of redact)."""
    total = 0
    for index, char in enumerate(nine):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return nine + str((10 - total % 10) % 10)


@st.composite
def personnummer(draw: st.DrawFn) -> str:
    """Valid personnummer and samordningsnummer in their written forms."""
    born = draw(st.dates(date(1900, 1, 1), date(2025, 12, 31)))
    day = born.day + (60 if draw(st.booleans()) else 0)
    nine = f"{born:%y%m}{day:02d}{draw(st.integers(0, 999)):03d}"
    ten = with_check_digit(nine)
    century = f"{born.year // 100}" if draw(st.booleans()) else ""
    separator = draw(st.sampled_from(["", "-", "+"]))
    return f"{century}{ten[:6]}{separator}{ten[6:]}"


@st.composite
def phone_numbers(draw: st.DrawFn) -> str:
    """Swedish mobile and landline numbers, national and international, in common layouts."""
    digits = st.text("0123456789", min_size=1, max_size=1)
    d = [draw(digits) for _ in range(7)]
    mobile = "7" + draw(st.sampled_from("02369"))
    layouts = [
        f"0{mobile}-{d[0]}{d[1]}{d[2]} {d[3]}{d[4]} {d[5]}{d[6]}",
        f"0{mobile}{''.join(d)}",
        f"0{mobile} {d[0]}{d[1]}{d[2]} {d[3]}{d[4]} {d[5]}{d[6]}",
        f"+46 {mobile} {d[0]}{d[1]}{d[2]} {d[3]}{d[4]} {d[5]}{d[6]}",
        f"+46{mobile}{''.join(d)}",
        f"0046 {mobile}-{''.join(d)}",
        f"08-{d[0]}{d[1]}{d[2]} {d[3]}{d[4]}{d[5]}",
        f"031-{d[0]}{d[1]} {d[2]}{d[3]} {d[4]}{d[5]}",
        f"(08) {d[0]}{d[1]}{d[2]} {d[3]}{d[4]}{d[5]}",
        f"+44 20 {d[0]}{d[1]}{d[2]}{d[3]} {d[4]}{d[5]}{d[6]}{d[0]}",
    ]
    return draw(st.sampled_from(layouts))


#: Arbitrary text around the planted data, separated from it as words are (not glued to it).
surroundings = st.tuples(
    st.text(max_size=40),
    st.sampled_from([" ", "\n", ", ", ": ", " (", ". "]),
    st.sampled_from([" ", "\n", ", ", ") ", ". ", "!"]),
    st.text(max_size=40),
)


def planted(data: str, around: tuple[str, str, str, str]) -> str:
    before, left, right, after = around
    return f"{before}{left}{data}{right}{after}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ring 070-123 45 67!", "Ring [telefon]!"),
        ("Ring 0701234567", "Ring [telefon]"),
        ("nr +46 70 123 45 67", "nr [telefon]"),
        ("nr +46701234567.", "nr [telefon]."),
        ("kontoret 08-123 456", "kontoret [telefon]"),
        ("kontoret (08) 123 456", "kontoret [telefon]"),
        ("London +44 20 7946 0958", "London [telefon]"),
        ("pnr 19850101-1234", "pnr [personnummer]"),
        ("pnr 850101-1234", "pnr [personnummer]"),
        ("pnr 8501011234", "pnr [personnummer]"),
        ("pnr 198501011234", "pnr [personnummer]"),
        ("pnr 191201+1236", "pnr [personnummer]"),
        ("samordningsnummer 850161-1234", "samordningsnummer [personnummer]"),
        ("mejla anna.svensson@example.se.", "mejla [e-post]."),
        ("Samtalen med Sara och Ahmed", "Samtalen med [namn] och [namn]"),
        ("samtalen med maria hjälpte", "samtalen med [namn] hjälpte"),
        ("Annas coach", "[namn] coach"),
        ("Jag pratade med Hans om det", "Jag pratade med [namn] om det"),
        ("ساعدني محمد ومريم", "ساعدني [namn] و[namn]"),
    ],
)
def test_personal_data_is_replaced_by_its_marker(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "Jag har gått 3 gånger i veckan sedan 2023.",
        "Från 2023-05-01 till 2023-06-30, och 05-01-2023.",
        "Jag har varit här i 18 månader och gått ner 10 kg.",
        "Hans mamma följde med. Per telefon är bäst.",
        "Klara av saker själv, det är målet.",
        "Bo i egen lägenhet och stig upp i tid.",
        "Mellan kl 08-16 och 1-2 gånger per vecka, 10 000 kr.",
        "Samtalen med min coach har hjälpt mycket.",
    ],
)
def test_ordinary_words_dates_and_counts_are_kept(text: str) -> None:
    assert redact(text) == Redacted(text, frozenset())


def test_removed_lists_each_kind_found() -> None:
    result = redact("Sara, 070-123 45 67, sara@example.se, 850101-1234")

    assert result.removed == {"name", "phone", "email", "personnummer"}


def test_known_names_are_removed_whole_word_in_any_case_with_their_parts() -> None:
    result = redact(
        "Anna Svensson, svensson och ANNA. Bor i Lundby med Bo.",
        known_names=["Anna Svensson", "Bo"],
    )

    assert result.text == "[namn], [namn] och [namn]. Bor i Lundby med [namn]."
    assert result.removed == {"name"}


def test_known_names_may_be_any_iterable_and_odd_entries_are_ignored() -> None:
    names = (n for n in ["", "  ", "(", "Zoltan"])

    assert redact("Zoltan (x)", known_names=names).text == "[namn] (x)"


@given(personnummer(), surroundings)
def test_no_personnummer_survives_in_any_surrounding_text(
    number: str, around: tuple[str, str, str, str]
) -> None:
    assert number not in redact(planted(number, around)).text


@given(phone_numbers(), surroundings)
def test_no_phone_number_survives_in_any_surrounding_text(
    number: str, around: tuple[str, str, str, str]
) -> None:
    assert number not in redact(planted(number, around)).text


@given(st.emails(), surroundings)
def test_no_email_address_survives_in_any_surrounding_text(
    address: str, around: tuple[str, str, str, str]
) -> None:
    assert address not in redact(planted(address, around)).text


@given(personnummer())
def test_personnummer_alone_is_reported_as_personnummer(number: str) -> None:
    assert redact(number) == Redacted("[personnummer]", frozenset({"personnummer"}))


pieces = st.one_of(
    st.text(max_size=20),
    personnummer(),
    phone_numbers(),
    st.emails(),
    st.sampled_from(["Hans", "Sara", "hans", "Anna-Karin", "[namn]", "[e-post]", "2023"]),
)


@given(
    st.lists(st.tuples(pieces, st.sampled_from(["", " ", "-", "+", "@", ".", "\n"])), max_size=8),
    st.lists(st.text(max_size=12), max_size=3),
)
def test_redaction_is_idempotent_and_never_raises(
    parts: list[tuple[str, str]], names: list[str]
) -> None:
    text = "".join(piece + glue for piece, glue in parts)

    once = redact(text, known_names=names)

    assert redact(once.text, known_names=names).text == once.text


# What people really type: any dash, dot, slash or space run, fullwidth and Arabic-Indic digits.

SEPARATORS = ["", "-", "–", "—", "−", "+", ".", " ", "  ", " - ", " – "]
PHONE_SEPARATORS = ["", "-", "–", ".", "/", " ", "  "]
#: ASCII, fullwidth, Arabic-Indic and Eastern Arabic-Indic (Persian, Urdu) digits.
DIGIT_SETS = ["0123456789", "０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "۰۱۲۳۴۵۶۷۸۹"]
#: Text around planted data with no digits of any script, so digits left over are the data's.
no_digits = st.text(st.characters(exclude_categories=("N", "Cs")), max_size=40)
plain_surroundings = st.tuples(
    no_digits,
    st.sampled_from([" ", "\n", ", ", ": ", " ("]),
    st.sampled_from([" ", "\n", ", ", ") ", ". ", "!"]),
    no_digits,
)


def in_digits(text: str, digit_set: str) -> str:
    """``text`` with its ASCII digits written in another script."""
    return text.translate(str.maketrans("0123456789", digit_set))


def digits_of(text: str) -> str:
    """The ASCII digits in ``text``, of any script, in order."""
    return "".join(str(int(c)) for c in text if c.isdecimal())


@st.composite
def typed_personnummer(draw: st.DrawFn) -> str:
    """A personnummer or samordningsnummer as typed: any separator and digits of any script."""
    number = draw(personnummer()).replace("-", "").replace("+", "")
    cut = len(number) - 4
    separator = draw(st.sampled_from(SEPARATORS))
    return in_digits(number[:cut] + separator + number[cut:], draw(st.sampled_from(DIGIT_SETS)))


@st.composite
def typed_phone_numbers(draw: st.DrawFn) -> str:
    """Swedish mobile numbers with any separators between groups, in digits of any script."""
    digits = draw(st.text("0123456789", min_size=7, max_size=7))
    groups = ["07" + draw(st.sampled_from("02369")), digits[:3], digits[3:5], digits[5:]]
    if draw(st.booleans()):
        groups[0] = "+46 " + groups[0][1:]
    separators = [draw(st.sampled_from(PHONE_SEPARATORS)) for _ in groups[1:]]
    number = groups[0] + "".join(s + g for s, g in zip(separators, groups[1:], strict=True))
    return in_digits(number, draw(st.sampled_from(DIGIT_SETS)))


@given(typed_personnummer(), plain_surroundings)
def test_no_personnummer_survives_however_it_is_typed(
    number: str, around: tuple[str, str, str, str]
) -> None:
    redacted = redact(planted(number, around)).text

    assert digits_of(number)[-10:] not in digits_of(redacted)
    assert digits_of(redacted) == ""


@given(typed_phone_numbers(), plain_surroundings)
def test_no_phone_number_survives_however_it_is_typed(
    number: str, around: tuple[str, str, str, str]
) -> None:
    assert digits_of(redact(planted(number, around)).text) == ""


local_parts = st.from_regex(r"[a-zåäöéü]{1,8}([._-][a-zåäöéü]{1,8}){0,2}", fullmatch=True)


@given(local_parts, st.sampled_from(["kommun.se", "region-x.se", "gmail.com"]), plain_surroundings)
def test_no_part_of_an_email_address_survives(
    local: str, domain: str, around: tuple[str, str, str, str]
) -> None:
    redacted = redact(planted(f"{local}@{domain}", around))

    assert "[e-post]" in redacted.text
    assert not re.search(r"[\w.-]\[e-post\]|\[e-post\][\w-]", redacted.text)  # no half left
    assert "email" in redacted.removed


surnames = st.from_regex(r"[A-ZÅÄÖ][a-zåäö]{3,10}(-[A-ZÅÄÖ][a-zåäö]{3,10})?", fullmatch=True)


@given(st.sampled_from(["Anna", "Sara", "Åsa", "Ahmed", "Johan", "Fatima"]), surnames)
def test_a_first_name_takes_the_capitalised_surname_after_it_along(
    first: str, surname: str
) -> None:
    redacted = redact(f"Jag fick hjälp av {first} {surname} på kontoret.")

    assert redacted.text == "Jag fick hjälp av [namn] på kontoret."


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pnr 19850312–1234", "pnr [personnummer]"),
        ("pnr 850312.1234", "pnr [personnummer]"),
        ("pnr 19850312  1234", "pnr [personnummer]"),
        ("pnr １９８５０３１２－１２３４", "pnr [personnummer]"),
        ("رقمي ١٩٨٥٠٣١٢-١٢٣٤ شكرا", "رقمي [personnummer] شكرا"),
        ("ring 070.123.45.67", "ring [telefon]"),
        ("ring 070/1234567", "ring [telefon]"),
        ("ring 070–123 45 67", "ring [telefon]"),
        ("call (555) 123-4567", "call [telefon]"),
        ("mejla åsa.ström@kommun.se", "mejla [e-post]"),
        ("Anna Svensson var bäst", "[namn] var bäst"),
    ],
)
def test_what_the_issue_found_leaking_is_removed(text: str, expected: str) -> None:
    assert redact(text).text == expected


def test_the_participants_own_names_are_removed_anywhere() -> None:
    redacted = redact("tack från zoltan, hälsningar Kovacs", names=["Zoltan Kovacs"])

    assert redacted.text == "tack från [namn], hälsningar [namn]"


def test_a_capitalised_word_after_a_name_at_a_sentence_end_is_kept() -> None:
    assert redact("Jag träffade Sara. Det hjälpte.").text == "Jag träffade [namn]. Det hjälpte."
