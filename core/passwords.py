"""Password rules for staff accounts: long enough and not one of the common passwords."""

from __future__ import annotations

from core.errors import DomainError
from core.i18n import N_

MIN_LENGTH = 12

#: Common passwords of 12 characters or more (from published leak lists), and Swedish ones.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678910",
        "123456789123",
        "1q2w3e4r5t6y",
        "qwertyuiop123",
        "qwerty123456",
        "qwertyuiopas",
        "password1234",
        "password12345",
        "passwordpassword",
        "iloveyou1234",
        "abc123456789",
        "abcdefghijkl",
        "aaaaaaaaaaaa",
        "111111111111",
        "000000000000",
        "123123123123",
        "qazwsxedcrfv",
        "1qaz2wsx3edc",
        "zaq12wsxcde3",
        "letmein12345",
        "welcome12345",
        "adminadmin12",
        "administrator",
        "football1234",
        "baseball1234",
        "superman1234",
        "trustno11234",
        "sunshine1234",
        "princess1234",
        "dragon123456",
        "monkey123456",
        "changeme1234",
        "masterpassword",
        "lösenord1234",
        "losenord1234",
        "lösenordlösenord",
        "sommar202020",
        "sommaren2024",
        "sommaren2025",
        "sommaren2026",
        "vinter123456",
        "hemligt12345",
        "sverige12345",
        "stockholm123",
        "göteborg1234",
        "goteborg1234",
        "välkommen123",
        "valkommen123",
        "varmvarmvarm",
        "samverkan123",
        "samverkan1234",
    }
)


def password_problem(password: str, email: str = "") -> DomainError | None:
    """Why ``password`` is not allowed, or None."""
    if len(password) < MIN_LENGTH:
        return DomainError(
            N_("Lösenordet måste ha minst {n} tecken."), field="password", n=MIN_LENGTH
        )
    folded = password.casefold()
    if folded in COMMON_PASSWORDS or folded.replace(" ", "") in COMMON_PASSWORDS:
        return DomainError(N_("Lösenordet är för vanligt. Välj ett annat."), field="password")
    if len(set(folded)) < 4:
        return DomainError(N_("Lösenordet är för enkelt. Välj ett annat."), field="password")
    if email and folded.startswith(email.casefold().split("@")[0]) and len(email.split("@")[0]) > 5:
        return DomainError(N_("Lösenordet får inte bygga på e-postadressen."), field="password")
    return None
