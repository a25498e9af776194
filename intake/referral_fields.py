"""What the referral form pages show: kept values, field errors, consent texts, the summary.

Between the steps the values are kept as a draft on the server (:mod:`services.referral_drafts`):
:func:`draft_payload` is what is stored and :func:`state_from_payload` reads it back. Every
message by a field starts with the field's name (:data:`FIELD_LABELS`), so the error summary
and a screen reader say which field it is about.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from multidict import MultiDictProxy

from core.codes import (
    CONSENT_METHODS,
    CONTACT_CHANNELS,
    GENDERS,
    INCOME_SOURCES,
    PARTIES,
    REFERRERS,
    Code,
    label,
)
from core.consent import INFORMATION_KINDS, ConsentText, current_text, text_by_version
from core.errors import DomainError, FormErrors, NotFound
from core.i18n import N_
from core.personnummer import mask
from core.referral_form import (
    CASE_WORKER_CONSENT_METHODS,
    CASE_WORKER_ORGS,
    FORM_FIELDS,
    ReferralDraft,
)
from intake import i18n

MULTI_FIELDS = frozenset({"contacts", "consent_sharing_parties", "consent_sharing_info"})
CONSENT_KINDS = ("information_sharing", "follow_up")
KEY_FIELD = "submission_key"
DRAFT_FIELD = "draft"
#: What a draft's ``notice`` may say (a code, turned into text when shown).
EXPIRED_NOTICE = "expired"
#: Each field's name as its error messages start: "Personnummer: ange …".
FIELD_LABELS = {
    "team": N_("Team"),
    "referrer_type": N_("Vem skickar anmälan"),
    "referrer_org": N_("Var du arbetar"),
    "referrer_name": N_("Ditt namn"),
    "referrer_email": N_("Din e-postadress i tjänsten"),
    "referrer_phone": N_("Ditt telefonnummer i tjänsten"),
    "protected_identity": N_("Skyddade personuppgifter"),
    "person_name": N_("Personens namn"),
    "personnummer": N_("Personnummer"),
    "personnummer_confirmed": N_("Personnummer"),
    "person_phone": N_("Personens telefonnummer"),
    "person_email": N_("Personens e-postadress"),
    "contact_channel": N_("Kontaktsätt"),
    "language": N_("Språk"),
    "interpreter": N_("Tolk"),
    "gender": N_("Kön"),
    "birth_year": N_("Födelseår"),
    "income_source": N_("Försörjning"),
    "contacts": N_("Kontakter i dag"),
    "help_wanted": N_("Vad personen vill ha hjälp med"),
    "practical_needs": N_("Praktiska behov"),
    "consent_sharing_parties": N_("Parter för informationsutbyte"),
    "consent_sharing_info": N_("Uppgifter som får delas"),
    "consent_follow_up": N_("Samtycke till uppföljning"),
    "consent_method": N_("Hur samtycket gavs"),
    "consent_confirmed": N_("Bekräftelse av samtycke"),
}
_KEY = re.compile(r"[A-Za-z0-9_-]{20,64}")
#: A draft's token as :func:`services.referral_drafts.new_token` makes it.
DRAFT_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
_VERSION = re.compile(r"[1-9][0-9]{0,3}")

FormValues = dict[str, str | list[str]]


@dataclass(frozen=True)
class Block:
    """A piece of a consent text: a heading (level 1 or 2), a paragraph or a list."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()


@dataclass
class FormState:
    """Everything a form or review page needs to render, with the values kept."""

    values: FormValues
    submission_key: str
    consent_versions: dict[str, int]
    errors: dict[str, str] = field(default_factory=dict)
    notice: str = ""
    #: The token of the draft these values were read from ('' for a new form).
    draft: str = ""

    def value(self, name: str) -> str:
        """The single value of field ``name`` ('' when not sent)."""
        raw = self.values.get(name, "")
        return raw if isinstance(raw, str) else (raw[0] if raw else "")

    def chosen(self, name: str) -> list[str]:
        """Every value sent for field ``name``."""
        raw = self.values.get(name, [])
        return [raw] if isinstance(raw, str) else list(raw)

    def value_length(self, name: str) -> int:
        """How many characters field ``name`` holds (for a length counter)."""
        return len(self.value(name))


def new_state(language: str) -> FormState:
    """An empty form with a fresh submission key and the current consent texts."""
    versions = {
        kind: current_text(kind, consent_language(language)).version for kind in CONSENT_KINDS
    }
    return FormState(values={}, submission_key=secrets.token_urlsafe(24), consent_versions=versions)


def state_from(form: MultiDictProxy[Any], language: str) -> FormState:
    """The values of a submitted form, its submission key and the consent versions shown.

    A missing or malformed key gets a new one; a version that does not exist is replaced by
    the current one (only a tampered form can send either).
    """
    values: FormValues = {}
    for name in FORM_FIELDS:
        sent = [value for value in form.getall(name, []) if isinstance(value, str)]
        if sent:
            values[name] = sent if name in MULTI_FIELDS or len(sent) > 1 else sent[0]
    versions = {kind: form.get(f"consent_version_{kind}", "") for kind in CONSENT_KINDS}
    draft = form.get(DRAFT_FIELD, "")
    state = _state(values, form.get(KEY_FIELD, ""), versions, language)
    state.draft = draft if isinstance(draft, str) and DRAFT_TOKEN.fullmatch(draft) else ""
    return state


def _state(
    values: FormValues, key: object, versions: Mapping[str, object], language: str
) -> FormState:
    """A form's state from values as sent or stored; a bad key or version is replaced."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        key = secrets.token_urlsafe(24)
    state = new_state(language)
    for kind in CONSENT_KINDS:
        sent_version = str(versions.get(kind, ""))
        if _VERSION.fullmatch(sent_version):
            try:
                text_by_version(kind, int(sent_version), consent_language(language))
                state.consent_versions[kind] = int(sent_version)
            except NotFound:
                pass
    state.values, state.submission_key = values, key
    return state


def draft_payload(state: FormState, *, notice: str = "") -> dict[str, Any]:
    """What a draft keeps of ``state``: the values, the submission key, the texts shown."""
    return {
        "values": state.values,
        KEY_FIELD: state.submission_key,
        "consent_versions": state.consent_versions,
        "notice": notice,
    }


def state_from_payload(payload: Mapping[str, Any], language: str, token: str) -> FormState:
    """The form's state kept in a draft (:func:`draft_payload`), read back."""
    raw = payload.get("values", {})
    values: FormValues = {
        name: raw[name]
        for name in FORM_FIELDS
        if name in raw and isinstance(raw[name], (str, list))
    }
    state = _state(values, payload.get(KEY_FIELD), payload.get("consent_versions", {}), language)
    state.draft = token
    if payload.get("notice") == EXPIRED_NOTICE:
        state.notice = expired_message()
    return state


def expired_message() -> str:
    """The notice when a form came back after its page had been open too long."""
    return i18n.gettext(
        N_(
            "Sidan hade varit öppen länge, så formuläret gick ut. Det du skrev finns kvar "
            "nedan. Kontrollera uppgifterna och fortsätt."
        )
    )


def with_errors(state: FormState, failed: DomainError) -> FormState:
    """``state`` with each field's message, translated and named; other errors go to the top."""
    if isinstance(failed, FormErrors):
        state.errors = {name: field_message(error) for name, error in failed.errors.items()}
    elif failed.field:
        state.errors = {failed.field: field_message(failed)}
    else:
        state.notice = failed.render(i18n.gettext)
    return state


def field_message(error: DomainError) -> str:
    """``error``'s message after its field's name: "Personnummer: ange 10 eller 12 siffror"."""
    message = error.render(i18n.gettext)
    name = FIELD_LABELS.get(str(error.field))
    if name is None:
        return message
    if message[:1].isupper() and not message[1:2].isupper():
        message = message[:1].lower() + message[1:]
    return f"{i18n.gettext(name)}: {message}"


def consent_language(language: str) -> str:
    """The language the consent texts are shown in: the page's, or Swedish."""
    try:
        for kind in CONSENT_KINDS:
            current_text(kind, language)
    except NotFound:
        return "sv"
    return language


def consent_blocks(text: str) -> list[Block]:
    """A consent text (headings ``#``/``##``, paragraphs, ``-`` lists) as blocks to render."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("#"):
            level = len(lines[0]) - len(lines[0].lstrip("#"))
            blocks.append(Block(f"h{min(level, 2)}", lines[0].lstrip("#").strip()))
            lines = lines[1:]
        if lines and lines[0].startswith("- "):
            items: list[str] = []
            for line in lines:
                if line.startswith("- "):
                    items.append(line[2:])
                elif items:
                    items[-1] += " " + line
            blocks.append(Block("ul", items=tuple(items)))
        elif lines:
            blocks.append(Block("p", " ".join(lines)))
    return blocks


@lru_cache(maxsize=64)
def text_blocks(text: ConsentText) -> tuple[Block, ...]:
    """The blocks of a consent text, parsed once per text (a published text never changes)."""
    return tuple(consent_blocks(text.text))


def consent_texts(state: FormState, language: str) -> dict[str, Any]:
    """The consent texts shown with the form: kind → version, language and blocks."""
    shown = consent_language(language)
    texts = {}
    for kind, version in state.consent_versions.items():
        text = text_by_version(kind, version, shown)
        texts[kind] = {
            "version": text.version,
            "language": shown,
            "blocks": text_blocks(text),
        }
    return texts


class SummaryRow(NamedTuple):
    """One row of the review page: a question, the answer and the field to change it.

    A named tuple, so the page's template unpacks it (cheaper than an attribute lookup each).
    """

    question: str
    answer: str
    field: str


def summary(
    draft: ReferralDraft,
    team_name: str,
    language: str,
    versions: Mapping[str, int],
    *,
    masked: bool = False,
) -> list[tuple[str, list[SummaryRow]]]:
    """The review page's sections, each a heading and its rows, in the form's language.

    ``masked`` shows the personnummer as its birth date and ``****`` (the receipt's copy).
    """
    _ = i18n.gettext
    return [
        (_("Team"), [SummaryRow(_("Remissen gäller"), team_name, "team")]),
        (_("Om dig"), _referrer_rows(draft, language)),
        (_("Om personen"), _person_rows(draft, language, masked=masked)),
        (_("Försörjning och kontakter"), [
            SummaryRow(_("Försörjning i dag"),
                       label(INCOME_SOURCES, draft.income_source, language), "income_source"),
            SummaryRow(_("Kontakter i dag"), _labels(PARTIES, draft.contacts, language), "contacts"),
        ]),
        (_("Behov"), [
            SummaryRow(_("Vill ha hjälp med"), draft.help_wanted, "help_wanted"),
            SummaryRow(_("Praktiska behov"), draft.practical_needs or "–", "practical_needs"),
        ]),
        (_("Samtycke"), _consent_rows(draft, language, versions)),
    ]  # fmt: skip


def _labels(codes: Mapping[str, Code], chosen: tuple[str, ...], language: str) -> str:
    """The labels of the ``chosen`` codes, or "none"."""
    return ", ".join(label(dict(codes), code, language) for code in chosen) or i18n.gettext("Inga")


def _yes_no(value: bool) -> str:
    return i18n.gettext("Ja") if value else i18n.gettext("Nej")


def _referrer_rows(draft: ReferralDraft, language: str) -> list[SummaryRow]:
    """The review rows about who sends the referral: a case worker, or the person."""
    _, referrer = i18n.gettext, draft.referrer
    if referrer.org == "egen":
        return [SummaryRow(_("Vem skickar anmälan"), _("Jag anmäler mig själv"), "referrer_type")]
    return [
        SummaryRow(_("Organisation"), label(REFERRERS, referrer.org, language), "referrer_org"),
        SummaryRow(_("Namn"), referrer.name, "referrer_name"),
        SummaryRow(_("E-post i tjänsten"), referrer.email, "referrer_email"),
        SummaryRow(_("Telefon i tjänsten"), referrer.phone, "referrer_phone"),
    ]


def _person_rows(draft: ReferralDraft, language: str, *, masked: bool) -> list[SummaryRow]:
    """The review rows about the person (identity only without protected identity)."""
    _, person = i18n.gettext, draft.person
    rows = [
        SummaryRow(
            _("Skyddade personuppgifter"), _yes_no(person.protected_identity), "protected_identity"
        )
    ]
    if person.protected_identity:
        rows.append(SummaryRow(_("Födelseår"), str(person.birth_year or "–"), "birth_year"))
    else:
        rows += [
            SummaryRow(_("Namn"), person.name or "", "person_name"),
            SummaryRow(
                _("Personnummer"), _written_personnummer(draft, masked=masked), "personnummer"
            ),
            SummaryRow(_("Telefon"), person.phone or "–", "person_phone"),
            SummaryRow(_("E-post"), person.email or "–", "person_email"),
        ]
    return rows + [
        SummaryRow(_("Kontakt"), label(CONTACT_CHANNELS, person.contact_channel, language),
                   "contact_channel"),
        SummaryRow(_("Språk"), person.language or "–", "language"),
        SummaryRow(_("Behöver tolk"), _yes_no(person.needs_interpreter), "interpreter"),
        SummaryRow(_("Kön"), label(GENDERS, person.gender, language), "gender"),
    ]  # fmt: skip


def _consent_rows(
    draft: ReferralDraft, language: str, versions: Mapping[str, int]
) -> list[SummaryRow]:
    """The review rows about the two consents and the texts shown."""
    _, consent = i18n.gettext, draft.consent
    shown = _("Informationsutbyte version {sharing}, uppföljning version {follow_up}").format(
        sharing=versions["information_sharing"], follow_up=versions["follow_up"]
    )
    return [
        SummaryRow(_("Informationsutbyte med"),
                   _labels(PARTIES, consent.sharing_parties, language), "consent_sharing_parties"),
        SummaryRow(_("Uppgifter som får delas"),
                   _labels(INFORMATION_KINDS, consent.sharing_information, language),
                   "consent_sharing_info"),
        SummaryRow(_("Uppföljning och statistik"), _yes_no(consent.follow_up), "consent_follow_up"),
        SummaryRow(_("Samtycket gavs"),
                   label(CONSENT_METHODS, consent.method, language) or "–", "consent_method"),
        SummaryRow(_("Samtyckestexter som visades"), shown, "consent_confirmed"),
    ]  # fmt: skip


def _written_personnummer(draft: ReferralDraft, *, masked: bool) -> str:
    """The personnummer as the case worker wrote it, checked (the review is their own data)."""
    number = draft.person.personnummer
    if number is None:
        return "–"
    return mask(number) if masked else f"{number.digits[:8]}-{number.digits[8:]}"


def receipt_copy(
    draft: ReferralDraft, team_name: str, language: str, versions: Mapping[str, int]
) -> dict[str, Any]:
    """What the receipt's printable copy shows (JSON): the review's rows, personnummer masked."""
    sections = summary(draft, team_name, language, versions, masked=True)
    return {
        "language": language,
        "team": team_name,
        "sections": [
            [heading, [[row.question, row.answer] for row in rows]] for heading, rows in sections
        ],
    }


def rate_limited_message(retry_after: float) -> str:
    """The friendly text shown when an address has sent too much."""
    minutes = max(1, round(retry_after / 60))
    message = N_(
        "Många remisser har skickats från din uppkoppling på kort tid. Vänta {minutes} minuter "
        "och försök igen. Det du har skrivit finns kvar på sidan. Är det bråttom, ring teamet."
    )
    return i18n.gettext(message).format(minutes=minutes)


def database_down_message() -> str:
    """The notice shown when the database could not be reached: nothing typed is lost."""
    return i18n.gettext(
        N_(
            "Vi kunde inte spara just nu: tjänsten har ett tillfälligt fel. Dina uppgifter finns "
            "kvar i formuläret. Försök igen om en stund genom att skicka formuläret på nytt."
        )
    )


def options(teams: Mapping[str, str], language: str) -> dict[str, list[tuple[str, str]]]:
    """The choices of each choice field as (code, label) pairs in ``language``."""
    _ = i18n.gettext

    def pairs(codes: Mapping[str, Any]) -> list[tuple[str, str]]:
        return [(code, item.label(language)) for code, item in codes.items()]

    return {
        "team": list(teams.items()),
        "referrer_type": [
            ("remittent", _("Jag är handläggare och remitterar en person")),
            ("egen", _("Jag anmäler mig själv (egenanmälan)")),
        ],
        "referrer_org": [(code, REFERRERS[code].label(language)) for code in CASE_WORKER_ORGS],
        "contact_channel": pairs(CONTACT_CHANNELS),
        "gender": pairs(GENDERS),
        "income_source": pairs(INCOME_SOURCES),
        "parties": pairs(PARTIES),
        "information_kinds": pairs(INFORMATION_KINDS),
        "consent_method": [
            (code, CONSENT_METHODS[code].label(language)) for code in CASE_WORKER_CONSENT_METHODS
        ],
        "yes_no": [("ja", _("Ja")), ("nej", _("Nej"))],
    }
