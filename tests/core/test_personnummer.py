"""Specification of core.personnummer: parsing, masking and age."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import DomainError
from core.personnummer import (
    FORMAT_HINT,
    Personnummer,
    age_on,
    has_century,
    mask,
    parse_personnummer,
)

TODAY = date(2026, 11, 22)


def luhn_check_digit(nine_digits: str) -> str:
    """The Luhn check digit for nine digits, computed here independently of the module."""
    total = 0
    for position, digit in enumerate(int(d) for d in nine_digits):
        product = digit * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return str((10 - total % 10) % 10)


def valid_digits(birth: date, serial: int, *, coordination: bool = False) -> str:
    """Twelve digits of a valid personnummer (or samordningsnummer) for ``birth``."""
    day = birth.day + (60 if coordination else 0)
    date_part = f"{birth.year:04d}{birth.month:02d}{day:02d}"
    nine = f"{date_part[2:]}{serial:03d}"
    return f"{date_part}{serial:03d}{luhn_check_digit(nine)}"


def test_valid_digits_helper_matches_a_published_example() -> None:
    assert valid_digits(date(1988, 3, 20), 1) == "198803200016"


@pytest.mark.parametrize(
    "written",
    ["198803200016", "19880320-0016", "880320-0016", "8803200016", "880320 0016", " 880320-0016 "],
)
def test_accepts_10_or_12_digits_with_or_without_separator(written: str) -> None:
    number = parse_personnummer(written, today=TODAY)
    assert number.digits == "198803200016"
    assert number.birth_date == date(1988, 3, 20)


def test_second_to_last_digit_odd_is_man_even_is_kvinna() -> None:
    assert parse_personnummer("880320-0016", today=TODAY).gender == "man"
    assert parse_personnummer("890102-3286", today=TODAY).gender == "kvinna"


def test_samordningsnummer_has_sixty_added_to_the_day() -> None:
    written = valid_digits(date(1990, 5, 17), 123, coordination=True)
    number = parse_personnummer(written, today=TODAY)
    assert written[6:8] == "77"
    assert number.is_coordination_number
    assert number.birth_date == date(1990, 5, 17)
    assert not parse_personnummer("880320-0016", today=TODAY).is_coordination_number


def test_plus_separator_means_a_hundred_years_or_older() -> None:
    digits = valid_digits(date(1925, 6, 1), 42)
    number = parse_personnummer(f"{digits[2:8]}+{digits[8:]}", today=TODAY)
    assert number.birth_date == date(1925, 6, 1)


def test_plus_applies_from_the_year_the_person_turns_a_hundred() -> None:
    digits = valid_digits(date(1926, 12, 31), 42)
    number = parse_personnummer(f"{digits[2:8]}+{digits[8:]}", today=TODAY)
    assert number.birth_date == date(1926, 12, 31)


def test_ten_digits_take_the_latest_birth_date_not_after_today() -> None:
    later_this_year = valid_digits(date(1926, 12, 31), 42)
    earlier_this_year = valid_digits(date(2026, 1, 5), 42)
    assert parse_personnummer(later_this_year[2:], today=TODAY).birth_date == date(1926, 12, 31)
    assert parse_personnummer(earlier_this_year[2:], today=TODAY).birth_date == date(2026, 1, 5)


def test_arabic_indic_digits_are_read_as_digits() -> None:
    assert parse_personnummer("١٩٨٨٠٣٢٠-٠٠١٦", today=TODAY).digits == "198803200016"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("", "Ange personnumret."),
        ("12345", "Personnumret ska ha 10 eller 12 siffror, men har 5."),
        ("1988032000161", "Personnumret ska ha 10 eller 12 siffror, men har 13."),
        ("880320:0016", "Personnumret får bara innehålla siffror och bindestreck"),
        ("88-03-20-0016", "Skriv bindestrecket före de fyra sista siffrorna"),
        ("880230-0016", "Personnumret börjar inte med ett datum som finns."),
        ("19881320-0016", "Personnumret börjar inte med ett datum som finns."),
        ("880320-0018", "Kontrollsiffran (den sista siffran) stämmer inte."),
        ("18991231-0001", "Födelseåret 1899 i personnumret kan inte stämma."),
    ],
)
def test_says_exactly_what_is_wrong(written: str, expected: str) -> None:
    with pytest.raises(DomainError) as raised:
        parse_personnummer(written, today=TODAY)
    assert raised.value.field == "personnummer"
    assert raised.value.render().startswith(expected)


def test_birth_date_in_the_future_is_refused() -> None:
    tomorrow = TODAY + timedelta(days=1)
    with pytest.raises(DomainError) as raised:
        parse_personnummer(valid_digits(tomorrow, 1), today=TODAY)
    assert raised.value.render() == (
        "Födelsedatumet i personnumret ligger i framtiden. Kontrollera årtalet."
    )


def test_mask_shows_the_date_and_hides_the_last_four_digits() -> None:
    number = parse_personnummer("880320-0016", today=TODAY)
    assert mask(number) == "19880320-****"


def test_repr_never_shows_the_whole_number() -> None:
    number = parse_personnummer("880320-0016", today=TODAY)
    assert repr(number) == "Personnummer(19880320-****)"
    assert "0016" not in repr(number)


@pytest.mark.parametrize(
    ("day", "expected"),
    [(date(2026, 3, 19), 37), (date(2026, 3, 20), 38), (date(1988, 3, 20), 0)],
)
def test_age_is_completed_years_on_the_day(day: date, expected: int) -> None:
    assert age_on(parse_personnummer("880320-0016", today=TODAY), day) == expected


def test_leap_day_birthday_counts_from_first_of_march() -> None:
    number = Personnummer(valid_digits(date(2004, 2, 29), 5))
    assert age_on(number, date(2022, 2, 28)) == 17
    assert age_on(number, date(2022, 3, 1)) == 18


births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)


@given(
    birth=births, serial=st.integers(0, 999), coordination=st.booleans(), style=st.integers(0, 4)
)
def test_every_valid_number_round_trips(
    birth: date, serial: int, coordination: bool, style: int
) -> None:
    digits = valid_digits(birth, serial, coordination=coordination)
    separator = "+" if TODAY.year - birth.year >= 100 else "-"
    written = [
        digits,
        f"{digits[:8]}-{digits[8:]}",
        f"{digits[2:8]}{separator}{digits[8:]}",
        f"{digits[:4]} {digits[4:8]} {digits[8:]}",
        f"{digits[:8]}{separator}{digits[8:]}",
    ][style]
    number = parse_personnummer(written, today=TODAY)
    assert number.digits == digits
    assert number.birth_date == birth
    assert number.is_coordination_number is coordination
    assert number.gender == ("man" if serial % 2 else "kvinna")


@given(text=st.text(max_size=40))
def test_arbitrary_text_raises_only_domain_error(text: str) -> None:
    try:
        number = parse_personnummer(text, today=TODAY)
    except DomainError as error:
        assert error.field == "personnummer"
        assert error.render()
    else:
        assert len(number.digits) == 12
        assert number.digits.isascii()
        assert number.birth_date <= TODAY


@given(digits=st.text(alphabet="0123456789-+ ", min_size=10, max_size=14))
def test_digit_strings_raise_only_domain_error(digits: str) -> None:
    try:
        parse_personnummer(digits, today=TODAY)
    except DomainError as error:
        assert error.field == "personnummer"


def test_the_hint_and_every_format_error_give_the_same_examples() -> None:
    examples = re.findall(r"\d{6,8}-\d{4}", FORMAT_HINT)
    assert examples == ["19850312-1234", "850312-1234"]
    for wrong in ("12345", "880320:0016", "88-03-20-0016"):
        with pytest.raises(DomainError) as raised:
            parse_personnummer(wrong, today=TODAY)
        assert re.findall(r"\d{6,8}-\d{4}", raised.value.render()) == examples, wrong


@pytest.mark.parametrize("example", ["19850312-1234", "850312-1234", "198503121234", "8503121234"])
def test_the_hints_examples_have_an_accepted_shape(example: str) -> None:
    """The examples' check digit is wrong on purpose; their shape and date are accepted."""
    with pytest.raises(DomainError) as raised:
        parse_personnummer(example, today=TODAY)
    assert raised.value.render().startswith("Kontrollsiffran")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("19850312-1231", True),
        ("850312-1231", False),
        ("8503121231", False),
        ("١٩٨٥٠٣١٢١٢٣١", True),
    ],
)
def test_has_century_tells_12_digits_from_10(written: str, expected: bool) -> None:
    assert has_century(written) is expected
