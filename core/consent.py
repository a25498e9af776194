"""Consent: the versioned texts a participant is shown, and the records made from them.

There are two consents, stored as separate records (DOMAIN.md, "Consent"):

- ``information_sharing`` (*samtycke till informationsutbyte*) lifts confidentiality under
  12 kap. 2 § offentlighets- och sekretesslagen for the parties the participant names. One record
  per party, with the kinds of information (:data:`INFORMATION_KINDS`) and the purpose.
- ``follow_up`` (*samtycke till uppföljning*) lets the team register the person for follow-up;
  without it the person is counted only anonymously.

The texts live in ``core/data/consents/<kind>/v<version>.<language>.md``. A published text is never edited:
a change is a new version, and every record keeps the version and the SHA-256 of the exact text
shown (line endings read as ``\\n``, so the hash does not depend on how the file was checked out).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

from core.codes import CONSENT_KINDS, CONSENT_METHODS, PARTIES, Code
from core.data import CONSENTS
from core.errors import DomainError, FormErrors, NotAllowed, NotFound
from core.i18n import N_

#: Kinds of information a participant can allow the team to share with a party.
INFORMATION_KINDS = {
    code.code: code
    for code in (
        Code("halsa", "Hälsa och vård", "Health and care"),
        Code("arbetsformaga", "Arbetsförmåga", "Ability to work"),
        Code("ersattning", "Ersättning och försörjning", "Benefits and income support"),
        Code("insatser", "Planerade och pågående insatser", "Planned and ongoing support"),
    )
}

#: The purpose stored with each kind of consent.
PURPOSES = {
    "information_sharing": Code(
        "samordnad_rehabilitering",
        "Att planera och samordna stöd och rehabilitering mot arbete eller studier",
        "To plan and coordinate support and rehabilitation towards work or studies",
    ),
    "follow_up": Code(
        "uppfoljning",
        "Att följa upp deltagandet och ta fram statistik utan namn",
        "To follow up participation and produce statistics without names",
    ),
}

#: How a withdrawal reached the team.
WITHDRAWAL_CHANNELS = {
    code.code: code
    for code in (
        Code("telefon", "Telefon", "Phone"),
        Code("brev", "Brev", "Letter"),
        Code("digital", "Digitalt", "Digitally"),
        Code("muntligt", "Muntligt vid möte", "In person"),
        Code("via_remittent", "Via remittenten", "Through the referrer"),
    )
}
#: The end reason to use when participation ends because consent was withdrawn.
WITHDRAWAL_END_REASON = "medgivande_aterkallat"

_TEXT_FILE = re.compile(r"v(?P<version>[1-9]\d*)\.(?P<language>[a-z]{2})\.md")


@dataclass(frozen=True)
class ConsentText:
    """One version of a consent text in one language; ``sha256`` is the hex digest of ``text``."""

    kind: str
    version: int
    language: str
    text: str
    sha256: str


@dataclass(frozen=True)
class ConsentChoices:
    """What the participant chose on the referral form.

    ``sharing_parties`` may be empty (no information sharing); ``method`` is one of
    :data:`core.codes.CONSENT_METHODS`, or None when no consent was given at all.
    """

    sharing_parties: tuple[str, ...]
    sharing_information: tuple[str, ...]
    follow_up: bool
    method: str | None

    @property
    def gives_any(self) -> bool:
        """True when at least one consent was given."""
        return bool(self.sharing_parties) or self.follow_up


@dataclass(frozen=True)
class ConsentDraft:
    """One consent record, ready to be stored.

    ``party`` is set for information sharing and None for follow-up; ``information_kinds`` is
    empty for follow-up. ``given_at`` is timezone-aware.
    """

    kind: str
    party: str | None
    information_kinds: tuple[str, ...]
    purpose: str
    text_version: int
    text_hash: str
    language: str
    method: str
    recorded_by: str
    given_at: datetime


@dataclass(frozen=True)
class Withdrawal:
    """A checked withdrawal of one consent record: when and through which channel."""

    channel: str
    at: datetime


@dataclass(frozen=True)
class PrintableSection:
    """One consent on the printable page: its title, text and the options to tick."""

    kind: str
    title: str
    text: ConsentText
    parties: tuple[Code, ...]
    information_kinds: tuple[Code, ...]


def current_text(kind: str, language: str, *, directory: Path = CONSENTS) -> ConsentText:
    """The highest version of the ``kind`` consent text in ``language``; NotFound if none."""
    versions = _versions(kind, language, directory)
    return versions[max(versions)]


def text_by_version(
    kind: str, version: int, language: str, *, directory: Path = CONSENTS
) -> ConsentText:
    """Version ``version`` of the ``kind`` consent text in ``language``; NotFound if none."""
    found = _versions(kind, language, directory).get(version)
    if found is None:
        raise NotFound(N_("Den versionen av samtyckestexten finns inte."), version=version)
    return found


def text_languages(kind: str, *, directory: Path = CONSENTS) -> tuple[str, ...]:
    """The languages the ``kind`` consent text exists in, sorted."""
    return tuple(sorted(lang for text_kind, lang in _load_texts(directory) if text_kind == kind))


def consent_drafts(
    choices: ConsentChoices,
    *,
    language: str,
    recorded_by: str,
    now: datetime,
    versions: Mapping[str, int] | None = None,
    directory: Path = CONSENTS,
) -> list[ConsentDraft]:
    """The consent records for a referral: one per sharing party, one for follow-up if given.

    ``versions`` maps a consent kind to the text version the participant was shown (the form
    should send it back); kinds left out get the current version. Raises NotFound when there
    is no such text in ``language``.
    """
    _require_aware(now)
    if not choices.gives_any:
        return []
    if choices.method not in CONSENT_METHODS:
        raise ValueError(f"consent method {choices.method!r} is not a CONSENT_METHODS code")
    wanted: list[tuple[str, str | None]] = [
        ("information_sharing", party) for party in choices.sharing_parties
    ]
    if choices.follow_up:
        wanted.append(("follow_up", None))
    shown = {
        kind: _text_shown(kind, language, (versions or {}).get(kind), directory)
        for kind, _ in wanted
    }
    return [
        ConsentDraft(
            kind=kind,
            party=party,
            information_kinds=choices.sharing_information if party else (),
            purpose=PURPOSES[kind].code,
            text_version=shown[kind].version,
            text_hash=shown[kind].sha256,
            language=shown[kind].language,
            method=choices.method,
            recorded_by=recorded_by,
            given_at=now,
        )
        for kind, party in wanted
    ]


def check_withdrawal(
    *, given_at: datetime, withdrawn_at: datetime | None, channel: str, at: datetime, now: datetime
) -> Withdrawal:
    """Check a withdrawal of a consent given at ``given_at`` (already withdrawn if ``withdrawn_at``).

    A withdrawal needs a channel from :data:`WITHDRAWAL_CHANNELS` and a time ``at`` between the
    consent and ``now``. Raises NotAllowed when the consent is already withdrawn and
    :class:`FormErrors` (fields ``channel`` and ``at``) for the rest.
    """
    for moment in (given_at, at, now):
        _require_aware(moment)
    if withdrawn_at is not None:
        message = N_("Samtycket återkallades redan {date}.")
        raise NotAllowed(message, date=withdrawn_at.date().isoformat())
    errors: dict[str, DomainError] = {}
    if channel not in WITHDRAWAL_CHANNELS:
        message = N_("Välj hur personen återkallade samtycket, till exempel telefon eller brev.")
        errors["channel"] = DomainError(message, field="channel")
    if at > now:
        message = N_("Ange när samtycket återkallades. Det kan inte vara senare än i dag.")
        errors["at"] = DomainError(message, field="at")
    elif at < given_at:
        message = N_("Samtycket kan inte ha återkallats före {date}, då det gavs.")
        errors["at"] = DomainError(message, field="at", date=given_at.date().isoformat())
    if errors:
        raise FormErrors(errors)
    return Withdrawal(channel=channel, at=at)


def printable_sections(
    language: str, *, directory: Path = CONSENTS
) -> tuple[PrintableSection, ...]:
    """The current consent texts in ``language`` for the printable page, with their options."""
    return (
        PrintableSection(
            kind="information_sharing",
            title=CONSENT_KINDS["information_sharing"].label(language),
            text=current_text("information_sharing", language, directory=directory),
            parties=tuple(PARTIES.values()),
            information_kinds=tuple(INFORMATION_KINDS.values()),
        ),
        PrintableSection(
            kind="follow_up",
            title=CONSENT_KINDS["follow_up"].label(language),
            text=current_text("follow_up", language, directory=directory),
            parties=(),
            information_kinds=(),
        ),
    )


def _text_shown(kind: str, language: str, version: int | None, directory: Path) -> ConsentText:
    """The text version ``version`` of ``kind``, or the current one when ``version`` is None."""
    if version is None:
        return current_text(kind, language, directory=directory)
    return text_by_version(kind, version, language, directory=directory)


def _versions(kind: str, language: str, directory: Path) -> dict[int, ConsentText]:
    """The versions of one kind's text in one language; NotFound when there are none."""
    versions = _load_texts(directory).get((kind, language))
    if not versions:
        message = N_("Det finns ingen samtyckestext på det språket.")
        raise NotFound(message, kind=kind, language=language)
    return versions


@cache
def _load_texts(directory: Path) -> dict[tuple[str, str], dict[int, ConsentText]]:
    """Every consent text under ``directory``, by (kind, language) and version; read once."""
    texts: dict[tuple[str, str], dict[int, ConsentText]] = {}
    for kind in CONSENT_KINDS:
        for path in sorted((directory / kind).glob("v*.md")):
            name = _TEXT_FILE.fullmatch(path.name)
            if name is None:
                continue
            text = path.read_text(encoding="utf-8")
            consent_text = ConsentText(
                kind=kind,
                version=int(name["version"]),
                language=name["language"],
                text=text,
                sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
            )
            texts.setdefault((kind, consent_text.language), {})[consent_text.version] = consent_text
    return texts


def _require_aware(moment: datetime) -> None:
    """Raise ValueError for a naive datetime (times are stored with their zone)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("expected a timezone-aware datetime")
