"""What the referral form pages show: kept values, field errors, consent texts, the summary.

The review step keeps no draft on the server: the review page carries every value back as
hidden fields (inside the encrypted connection, never in a URL), and the final step parses
the whole form again. Nothing half-finished is stored anywhere, so nothing has to expire or
be purged, and a case worker can leave at any step without leaving personal data behind.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

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
from core.referral_form import FORM_FIELDS, ReferralDraft
from intake import i18n

MULTI_FIELDS = frozenset({"contacts", "consent_sharing_parties", "consent_sharing_info"})
CONSENT_KINDS = ("information_sharing", "follow_up")
KEY_FIELD = "submission_key"
_KEY = re.compile(r"[A-Za-z0-9_-]{20,64}")
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

    def value(self, name: str) -> str:
        """The single value of field ``name`` ('' when not sent)."""
        raw = self.values.get(name, "")
        return raw if isinstance(raw, str) else (raw[0] if raw else "")

    def chosen(self, name: str) -> list[str]:
        """Every value sent for field ``name``."""
        raw = self.values.get(name, [])
        return [raw] if isinstance(raw, str) else list(raw)

    def hidden_fields(self) -> list[tuple[str, str]]:
        """(name, value) pairs that carry the form through the review page."""
        pairs = [(name, value) for name in FORM_FIELDS for value in self.chosen(name)]
        pairs.append((KEY_FIELD, self.submission_key))
        pairs += [(f"consent_version_{k}", str(v)) for k, v in self.consent_versions.items()]
        return pairs


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
    key = form.get(KEY_FIELD, "")
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        key = secrets.token_urlsafe(24)
    state = new_state(language)
    for kind in CONSENT_KINDS:
        sent_version = form.get(f"consent_version_{kind}", "")
        if isinstance(sent_version, str) and _VERSION.fullmatch(sent_version):
            try:
                text_by_version(kind, int(sent_version), consent_language(language))
                state.consent_versions[kind] = int(sent_version)
            except NotFound:
                pass
    state.values, state.submission_key = values, key
    return state


def with_errors(state: FormState, failed: DomainError) -> FormState:
    """``state`` with each field's message translated; other errors go to the top."""
    if isinstance(failed, FormErrors):
        state.errors = {name: error.render(i18n.gettext) for name, error in failed.errors.items()}
    elif failed.field:
        state.errors = {failed.field: failed.render(i18n.gettext)}
    else:
        state.notice = failed.render(i18n.gettext)
    return state


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


@dataclass(frozen=True)
class SummaryRow:
    """One row of the review page: a question, the answer and the field to change it."""

    question: str
    answer: str
    field: str


def summary(
    draft: ReferralDraft, team_name: str, language: str, versions: Mapping[str, int]
) -> list[tuple[str, list[SummaryRow]]]:
    """The review page's sections, each a heading and its rows, in the form's language."""
    _ = i18n.gettext
    referrer = draft.referrer
    return [
        (_("Team"), [SummaryRow(_("Remissen gäller"), team_name, "team")]),
        (_("Om dig"), [
            SummaryRow(_("Organisation"), label(REFERRERS, referrer.org, language), "referrer_org"),
            SummaryRow(_("Namn"), referrer.name, "referrer_name"),
            SummaryRow(_("E-post i tjänsten"), referrer.email, "referrer_email"),
            SummaryRow(_("Telefon i tjänsten"), referrer.phone, "referrer_phone"),
        ]),
        (_("Om personen"), _person_rows(draft, language)),
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


def _person_rows(draft: ReferralDraft, language: str) -> list[SummaryRow]:
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
            SummaryRow(_("Personnummer"), _written_personnummer(draft), "personnummer"),
            SummaryRow(_("Telefon"), person.phone or "–", "person_phone"),
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


def _written_personnummer(draft: ReferralDraft) -> str:
    """The personnummer as the case worker wrote it, checked (the review is their own data)."""
    number = draft.person.personnummer
    return f"{number.digits[:8]}-{number.digits[8:]}" if number else "–"


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
        "referrer_org": pairs(REFERRERS),
        "contact_channel": pairs(CONTACT_CHANNELS),
        "gender": pairs(GENDERS),
        "income_source": pairs(INCOME_SOURCES),
        "parties": pairs(PARTIES),
        "information_kinds": pairs(INFORMATION_KINDS),
        "consent_method": pairs(CONSENT_METHODS),
        "yes_no": [("ja", _("Ja")), ("nej", _("Nej"))],
    }
