"""A participant's contact details for survey invitations: checked, normalised and masked.

An SMS goes to a number in E.164 form (``+46701234567``): Swedish numbers written the usual
way (``070-123 45 67``, ``0046 70…``) are normalised, and a Swedish number must be a mobile
number (``07…``), since a landline cannot take an SMS. Lists show contact details masked
(``07x-xxx xx 67``, ``a•••@example.se``), never in full.
"""

from __future__ import annotations

import re

from core.errors import DomainError
from core.i18n import N_

_WRITTEN_PHONE = re.compile(r"\+?[0-9 ()./-]+", re.ASCII)
#: As the referral form's: no characters with a meaning in mail headers (``,<>"();:``).
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]{1,64}@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}")
#: After +46: a mobile number is 7 and eight more digits.
_SWEDISH_MOBILE = re.compile(r"7\d{8}")


class ContactMissing(DomainError):
    """The participant has no phone number or e-mail address to send an invitation to."""


def sms_number(written: str | None) -> str:
    """``written`` as an E.164 number an SMS can go to; :class:`ContactMissing` or
    :class:`DomainError` (field ``phone``) when there is none or it is not one."""
    text = (written or "").strip()
    if not text:
        raise ContactMissing(
            N_("Telefonnummer saknas: remissen har inget telefonnummer till personen."),
            field="phone",
        )
    if not _WRITTEN_PHONE.fullmatch(text):
        raise _not_mobile()
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        number = digits
    elif digits.startswith("00"):
        number = digits[2:]
    elif digits.startswith("0"):
        number = "46" + digits[1:]
    else:
        raise _not_mobile()
    if number.startswith("46"):
        if not _SWEDISH_MOBILE.fullmatch(number[2:]):
            raise _not_mobile()
    elif not 8 <= len(number) <= 15:
        raise _not_mobile()
    return "+" + number


def _not_mobile() -> DomainError:
    return DomainError(
        N_(
            "Telefonnummer: numret i registret går inte att skicka SMS till. Det behövs ett "
            "mobilnummer, till exempel 070-123 45 67."
        ),
        field="phone",
    )


def email_address(written: str | None) -> str:
    """``written`` as an e-mail address; :class:`ContactMissing` or :class:`DomainError`
    (field ``email``) when there is none or it is not one."""
    text = (written or "").strip()
    if not text:
        raise ContactMissing(
            N_("E-postadress saknas: personen har ingen e-postadress i registret."),
            field="email",
        )
    if not _EMAIL.fullmatch(text):
        raise DomainError(
            N_("E-postadress: adressen i registret ser inte ut som en e-postadress."),
            field="email",
        )
    return text


def mask_phone(written: str | None) -> str:
    """A phone number with all but its last two digits hidden: ``07x-xxx xx 67``."""
    digits = re.sub(r"\D", "", written or "")
    if len(digits) < 4:
        return "–" if not digits else "•" * len(digits)
    if written and written.strip().startswith("+") and not digits.startswith("46"):
        return f"+{digits[:2]}… {digits[-2:]}"
    return f"07x-xxx xx {digits[-2:]}"


def mask_email(written: str | None) -> str:
    """An e-mail address with the local part hidden but its first letter: ``a•••@example.se``."""
    text = (written or "").strip()
    if "@" not in text:
        return "–" if not text else "•••"
    local, domain = text.rsplit("@", 1)
    return f"{local[:1]}•••@{domain}"
