"""Swedish personal identity numbers (*personnummer*) and coordination numbers.

A personnummer is the birth date (``YYMMDD`` or ``YYYYMMDD``), a three-digit serial whose last
digit is odd for men and even for women, and a Luhn check digit over the last ten digits. A
*samordningsnummer* (coordination number, for people who are not or not yet registered in
Sweden) is written the same way with 60 added to the day of birth.

Ten-digit numbers leave out the century: the person is taken to be born on the latest date with
those digits that is not after today, unless the separator is ``+``, which is used from the year
a person turns 100 (folkbokföringslagen 18 §). In twelve-digit numbers the century is written
out and the separator means nothing.

``stdnum.se.personnummer`` (python-stdnum 2.2) rejects samordningsnummer and resolves the century
against the machine's clock, so this module checks the date itself and takes only the Luhn check
from python-stdnum.

The number is personal data: :func:`mask` gives the form to show, and the ``repr`` of a
:class:`Personnummer` is masked so that it never ends up in a log by accident.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from stdnum import luhn
from stdnum.exceptions import ValidationError

from core.errors import DomainError
from core.i18n import N_

FIELD = "personnummer"
#: Added to the day of birth in a samordningsnummer.
COORDINATION_DAY_OFFSET = 60
#: Birth dates before this year are taken as typing mistakes.
EARLIEST_BIRTH_YEAR = 1900
#: How the form describes the formats :func:`parse_personnummer` accepts; every error below
#: gives the same two examples, so the hint and the errors agree.
FORMAT_HINT = N_(
    "10 eller 12 siffror, med eller utan bindestreck, till exempel 19850312-1234 eller 850312-1234."
)

_SHAPE = re.compile(r"(?P<date>\d{6}|\d{8})(?P<separator>[-+]?)(?P<serial>\d{4})", re.ASCII)
_ALLOWED = re.compile(r"[\d+-]*", re.ASCII)


@dataclass(frozen=True)
class Personnummer:
    """A valid personnummer or samordningsnummer; build one with :func:`parse_personnummer`.

    ``digits`` is the canonical form, twelve digits without separator (``YYYYMMDDNNNC``).
    """

    digits: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Personnummer({mask(self)})"

    @property
    def is_coordination_number(self) -> bool:
        """True for a samordningsnummer (day of birth + 60)."""
        return int(self.digits[6:8]) > COORDINATION_DAY_OFFSET

    @property
    def birth_date(self) -> date:
        """The date of birth the number encodes."""
        day = int(self.digits[6:8])
        if self.is_coordination_number:
            day -= COORDINATION_DAY_OFFSET
        return date(int(self.digits[:4]), int(self.digits[4:6]), day)

    @property
    def gender(self) -> str:
        """``man`` when the second-to-last digit is odd, else ``kvinna`` (legal gender)."""
        return "man" if int(self.digits[-2]) % 2 else "kvinna"


def parse_personnummer(text: str, *, today: date | None = None) -> Personnummer:
    """The personnummer written in ``text``: 10 or 12 digits, separator ``-``, ``+`` or none.

    Spaces are ignored and digits of other scripts are read as 0-9. Raises :class:`DomainError` (field ``personnummer``) saying what is wrong: characters that
    do not belong, the number of digits, a date that does not exist or lies in the future, or
    the check digit.
    """
    today = today or date.today()
    written = _without_spaces(_ascii_digits(text))
    if not written:
        raise DomainError(N_("Ange personnumret."), field=FIELD)
    shape = _SHAPE.fullmatch(written)
    if shape is None:
        raise _shape_error(written)
    date_digits, serial = shape["date"], shape["serial"]
    if len(date_digits) == 6:
        century_back = shape["separator"] == "+"
        date_digits = _with_century(date_digits, today, hundred_or_older=century_back)
    number = Personnummer(date_digits + serial)
    _check_birth_date(number, today)
    if not _has_valid_check_digit(number):
        raise DomainError(
            N_("Kontrollsiffran (den sista siffran) stämmer inte. Kontrollera personnumret."),
            field=FIELD,
        )
    return number


def has_century(text: str) -> bool:
    """True when ``text`` is written with 12 digits, the century included.

    With 10 digits :func:`parse_personnummer` chose the century; the form asks the case
    worker to confirm when that choice gives an age outside the team's range.
    """
    return sum(char.isdigit() for char in _ascii_digits(text)) == 12


def mask(number: Personnummer) -> str:
    """The number as shown on screen: ``YYYYMMDD-****``."""
    return f"{number.digits[:8]}-****"


def age_on(number: Personnummer, day: date) -> int:
    """The person's age in completed years on ``day``."""
    return completed_years(number.birth_date, day)


def completed_years(birth_date: date, day: date) -> int:
    """Completed years from ``birth_date`` to ``day`` (29 February birthdays count from 1 March)."""
    before_birthday = (day.month, day.day) < (birth_date.month, birth_date.day)
    return day.year - birth_date.year - before_birthday


def _ascii_digits(text: str) -> str:
    """``text`` with digits of other scripts (such as Arabic-Indic) written as 0-9."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def _without_spaces(text: str) -> str:
    """``text`` without any whitespace (spaces between digit groups are common)."""
    return "".join(text.split())


def _shape_error(written: str) -> DomainError:
    """The error for text that is not 10 or 12 digits with at most one separator."""
    if not _ALLOWED.fullmatch(written):
        message = N_(
            "Personnumret får bara innehålla siffror och bindestreck, till exempel "
            "19850312-1234 eller 850312-1234."
        )
        return DomainError(message, field=FIELD)
    count = sum(character.isdigit() for character in written)  # all ASCII by now
    if count in (10, 12):
        message = N_(
            "Skriv bindestrecket före de fyra sista siffrorna, eller inget bindestreck, "
            "till exempel 19850312-1234 eller 850312-1234."
        )
        return DomainError(message, field=FIELD)
    message = N_(
        "Personnumret ska ha 10 eller 12 siffror, men har {count}. "
        "Skriv det till exempel som 19850312-1234 eller 850312-1234."
    )
    return DomainError(message, field=FIELD, count=count)


def _with_century(yymmdd: str, today: date, *, hundred_or_older: bool) -> str:
    """``yymmdd`` with its century, from the separator and today's date.

    ``+`` marks someone who turns 100 this year or is older: the latest year a century or more
    back. Otherwise the latest date with these digits that is not after today.
    """
    year = today.year - (today.year - int(yymmdd[:2])) % 100
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6]) % COORDINATION_DAY_OFFSET
    if hundred_or_older or (year == today.year and (month, day) > (today.month, today.day)):
        year -= 100
    return f"{year:04d}{yymmdd[2:]}"


def _check_birth_date(number: Personnummer, today: date) -> None:
    """Raise unless the number's birth date exists, is not in the future and is plausible."""
    try:
        birth_date = number.birth_date
    except ValueError:
        message = N_(
            "Personnumret börjar inte med ett datum som finns. Kontrollera år, månad och dag."
        )
        raise DomainError(message, field=FIELD) from None
    if birth_date > today:
        message = N_("Födelsedatumet i personnumret ligger i framtiden. Kontrollera årtalet.")
        raise DomainError(message, field=FIELD)
    if birth_date.year < EARLIEST_BIRTH_YEAR:
        message = N_("Födelseåret {year} i personnumret kan inte stämma. Kontrollera årtalet.")
        raise DomainError(message, field=FIELD, year=birth_date.year)


def _has_valid_check_digit(number: Personnummer) -> bool:
    """True when the Luhn check digit over the last ten digits is right."""
    try:
        luhn.validate(number.digits[2:])
    except ValidationError:
        return False
    return True
