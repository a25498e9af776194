"""Contact details for invitations: Swedish mobile numbers to E.164, e-mail checked, both masked."""

from __future__ import annotations

import pytest

from core.contact import ContactMissing, email_address, mask_email, mask_phone, sms_number
from core.errors import DomainError


@pytest.mark.parametrize(
    ("written", "number"),
    [
        ("070-123 45 67", "+46701234567"),
        ("0701234567", "+46701234567"),
        ("+46 70 123 45 67", "+46701234567"),
        ("0046 (0)70-123 45 67".replace("(0)", ""), "+46701234567"),
        ("+358 40 123 4567", "+358401234567"),
    ],
)
def test_numbers_written_the_usual_ways_become_e164(written: str, number: str) -> None:
    assert sms_number(written) == number


@pytest.mark.parametrize(
    "written", ["08-123 456 78", "070-123", "+46 8 123 456 78", "07O-1234567", "701234567"]
)
def test_a_landline_or_malformed_number_is_refused_naming_the_phone(written: str) -> None:
    with pytest.raises(DomainError) as refused:
        sms_number(written)
    assert refused.value.field == "phone" and "mobilnummer" in refused.value.render()


@pytest.mark.parametrize("written", [None, "", "   "])
def test_no_number_is_said_to_be_missing(written: str | None) -> None:
    with pytest.raises(ContactMissing):
        sms_number(written)


def test_e_mail_addresses_are_checked() -> None:
    assert email_address(" sara@example.se ") == "sara@example.se"
    with pytest.raises(ContactMissing):
        email_address(None)
    with pytest.raises(DomainError, match="E-postadress"):
        email_address("sara@example")


def test_lists_show_contact_details_masked() -> None:
    assert mask_phone("070-123 45 67") == "07x-xxx xx 67"
    assert mask_phone("+46701234567") == "07x-xxx xx 67"
    assert mask_phone("+358 40 123 4567") == "+35… 67"
    assert mask_email("sara.exempel@example.se") == "s•••@example.se"
    assert (mask_phone(None), mask_email(None)) == ("–", "–")
