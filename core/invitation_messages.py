"""The words of a survey invitation sent by SMS or e-mail: neutral, with nothing but the link.

Someone else may read the participant's phone or mailbox, so the message names neither the
team nor rehabilitation, and carries no name: a greeting, a request to answer a few short
questions, the link (and, by e-mail, the date it stops working). The text is in the
participant's language when there is a translation (``core/data/locales/<lang>/
LC_MESSAGES/invitation_messages.po``), else Swedish.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.i18n import DEFAULT_LANGUAGE, N_, SURVEY_LANGUAGES
from core.translations import translate_to

SMS_TEXT = N_("Hej! Vi vill gärna höra hur du har det. Svara på några korta frågor här: {link}")
EMAIL_SUBJECT = N_("Några korta frågor")
EMAIL_BODY = N_(
    "Hej!\n\nVi vill gärna höra hur du har det. Svara på några korta frågor här:\n\n{link}\n\n"
    "Det är frivilligt att svara. Länken gäller till och med {date}.\n"
)

#: How the referral form's free-text language ("arabiska", "English") names a survey language.
_LANGUAGE_NAMES = {
    "sv": ("sv", "svenska", "swedish"),
    "en": ("en", "engelska", "english"),
    "ar": ("ar", "arabiska", "arabic", "العربية"),
    "so": ("so", "somaliska", "somali", "af-soomaali"),
    "ti": ("ti", "tigrinja", "tigrinya", "ትግርኛ"),
}


def participant_language(written: str | None) -> str:
    """The survey language the participant's recorded language names; Swedish by default."""
    text = (written or "").strip().casefold()
    for code, names in _LANGUAGE_NAMES.items():
        if code in SURVEY_LANGUAGES and text in names:
            return code
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class EmailText:
    """An invitation e-mail's subject and plain-text body."""

    subject: str
    body: str


def sms_text(language: str, link: str) -> str:
    """The invitation SMS in ``language`` (Swedish where there is no translation)."""
    return translate_to(language, SMS_TEXT).format(link=link)


def email_text(language: str, link: str, expires_on: str) -> EmailText:
    """The invitation e-mail in ``language`` (Swedish where there is no translation)."""
    body = translate_to(language, EMAIL_BODY).format(link=link, date=expires_on)
    return EmailText(translate_to(language, EMAIL_SUBJECT), body)
