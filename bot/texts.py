"""The bot's own words, as Swedish gettext msgids.

Their English and Arabic translations live in ``core/data/locales/<lang>/LC_MESSAGES/survey.po``, the same
catalogue as the web survey's: the two channels share most words ("Tillbaka", "Hoppa över"), so
translators keep one file per language, and ``pybabel extract`` finds these through ``N_``. The
survey's own texts (questions, options, intro, thanks) come from its YAML definition instead.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.errors import DomainError
from core.i18n import N_, SURVEY_LANGUAGES, list_separator
from core.translations import translate_to

GREETING = N_(
    "Hej! Teamet vill gärna veta vad du tycker om stödet du har fått. Det är frivilligt att "
    "svara, och ingen i rapporten kan se vad just du har svarat.\n\n"
    "Vilket språk vill du svara på?"
)
WELCOME_BACK = N_("Välkommen tillbaka! Du fortsätter där du slutade.")
NEED_LINK = N_(
    "Hej! Här svarar du på teamets enkät. För att börja behöver du öppna länken, eller "
    "skanna QR-koden, som du har fått från teamet."
)
ALREADY_ANSWERED = N_(
    "Du har redan svarat på enkäten. Tack! Skriv /radera om du vill att vi tar bort dina svar."
)
QUESTION_NUMBER = N_("Fråga {number} av {total}")
YOUR_ANSWER = N_("Ditt svar nu: {answer}")
WRITE_ANSWER = N_("Skriv ditt svar i ett meddelande.")
WRITE_NEW_ANSWER = N_("Skriv ett nytt svar om du vill ändra det.")
CHOOSE_MANY = N_("Tryck på alla som passar och sedan på Klar.")
SCALE_ENDS = N_("{min} = {min_label}, {max} = {max_label}")
BACK = N_("Tillbaka")
SKIP = N_("Hoppa över")
KEEP = N_("Behåll svaret")
DONE = N_("Klar")
LATER = N_("Fortsätt senare")
CONTINUE = N_("Fortsätt")
STALE_BUTTON = N_("Den frågan är redan besvarad. Svara på den senaste frågan.")
SAVED_FOR_LATER = N_(
    "Dina svar är sparade. När du vill fortsätta trycker du på Fortsätt eller skriver /start."
)
REDACTED = N_(
    "Vi tog bort {kinds} ur ditt svar innan vi sparade det, så att ingen ska kunna se vem du är. "
    "Så här sparades svaret:\n\n{text}"
)
REDACTED_KINDS = {
    "personnummer": N_("personnummer"),
    "phone": N_("telefonnummer"),
    "email": N_("e-postadress"),
    "name": N_("namn"),
}
REMINDERS_STOPPED = N_(
    "Du får inga fler påminnelser från oss. Du kan ändå svara när du vill genom att skriva /start."
)
STOP_REMINDERS = N_("Inga fler påminnelser")
REMINDER = N_(
    "Hej! Du har börjat svara på teamets enkät men inte svarat klart. Vill du fortsätta där "
    "du slutade? Det är frivilligt."
)
CONFIRM_DELETE = N_(
    "Vill du att vi tar bort alla dina svar på enkäten? Det går inte att ångra. "
    "Du får inga fler påminnelser efteråt."
)
DELETE_YES = N_("Ja, ta bort mina svar")
DELETE_NO = N_("Nej, behåll dem")
DELETED = N_(
    "Dina svar är borttagna och du får inga fler påminnelser. Om du ändrar dig kan du skriva "
    "/start och svara igen."
)
NOT_DELETED = N_("Dina svar finns kvar.")
NOTHING_TO_DELETE = N_("Det finns inga svar från dig att ta bort.")
HELP = N_(
    "Så här fungerar enkäten:\n"
    "• Tryck på ett svar, eller skriv ditt svar i ett meddelande.\n"
    "• Tillbaka: gå till förra frågan och ändra ditt svar.\n"
    "• Hoppa över: för frågor som inte måste besvaras.\n"
    "• Fortsätt senare: dina svar sparas och du fortsätter där du slutade.\n\n"
    "/start – fortsätt enkäten\n"
    "/stopp – inga fler påminnelser\n"
    "/radera – ta bort dina svar\n"
    "/hjalp – den här hjälpen\n\n"
    "Det är frivilligt att svara. Har du frågor kan du kontakta teamet."
)
START_COMMAND = N_("Börja eller fortsätt enkäten")
HELP_COMMAND = N_("Hjälp")
DELETE_COMMAND = N_("Ta bort mina svar")


def translate(language: str, message: str, **params: object) -> str:
    """``message`` in ``language``, with ``params`` filled in."""
    text = translate_to(language, message)
    return text.format(**params) if params else text


def error_text(language: str, error: DomainError) -> str:
    """A domain error's message for the participant, in ``language``."""
    return error.render(lambda message: translate_to(language, message))


def removed_kinds(language: str, kinds: Iterable[str]) -> str:
    """The kinds of personal data removed from an answer, as words, e.g. "telefonnummer"."""
    ordered = [kind for kind in REDACTED_KINDS if kind in set(kinds)]
    return list_separator(language).join(
        translate(language, REDACTED_KINDS[kind]) for kind in ordered
    )


def guess_language(language_code: str | None) -> str:
    """The participant's language from their Telegram app's, until they choose one."""
    code = (language_code or "").split("-")[0].lower()
    return code if code in SURVEY_LANGUAGES else "sv"
