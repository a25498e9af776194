"""Specification of core.consent: the versioned texts, the records and withdrawal."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from core.codes import CONSENT_KINDS, PARTIES
from core.consent import (
    INFORMATION_KINDS,
    ConsentChoices,
    ConsentDraft,
    Withdrawal,
    check_withdrawal,
    consent_drafts,
    current_text,
    printable_sections,
    text_by_version,
    text_languages,
)
from core.errors import FormErrors, NotAllowed, NotFound

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)


def write_text(directory: Path, kind: str, name: str, text: str) -> None:
    """Write a consent text file as bytes, exactly as given."""
    (directory / kind).mkdir(parents=True, exist_ok=True)
    (directory / kind / name).write_bytes(text.encode("utf-8"))


def test_every_consent_exists_in_swedish_and_english_with_the_same_versions() -> None:
    for kind in CONSENT_KINDS:
        assert text_languages(kind) == ("en", "sv")
        assert current_text(kind, "sv").version == current_text(kind, "en").version


def test_current_text_carries_the_sha256_of_its_text() -> None:
    text = current_text("information_sharing", "sv")
    assert (text.kind, text.version, text.language) == ("information_sharing", 1, "sv")
    assert text.text.startswith("# Samtycke till informationsutbyte\n")
    assert text.sha256 == hashlib.sha256(text.text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    ("kind", "language", "phrases"),
    [
        (
            "information_sharing",
            "sv",
            ["12 kapitlet 2 §", "(2003:1210)", "frivilligt", "ta tillbaka", "fem år"],
        ),
        (
            "information_sharing",
            "en",
            ["Chapter 12, section 2", "(2003:1210)", "voluntary", "take back", "five years"],
        ),
        ("follow_up", "sv", ["statistik", "frivilligt", "ta tillbaka", "fem år"]),
        ("follow_up", "en", ["statistics", "voluntary", "take back", "five years"]),
    ],
)
def test_texts_state_legal_ground_purpose_withdrawal_and_retention(
    kind: str, language: str, phrases: list[str]
) -> None:
    text = current_text(kind, language).text
    assert [phrase for phrase in phrases if phrase not in text] == []


def test_current_text_is_the_highest_version(tmp_path: Path) -> None:
    write_text(tmp_path, "follow_up", "v1.sv.md", "första\n")
    write_text(tmp_path, "follow_up", "v10.sv.md", "tionde\n")
    write_text(tmp_path, "follow_up", "v2.sv.md", "andra\n")
    text = current_text("follow_up", "sv", directory=tmp_path)
    assert (text.version, text.text) == (10, "tionde\n")
    assert text_by_version("follow_up", 2, "sv", directory=tmp_path).text == "andra\n"


def test_hash_does_not_depend_on_line_endings_in_the_file(tmp_path: Path) -> None:
    write_text(tmp_path / "unix", "follow_up", "v1.sv.md", "rad ett\nrad två\n")
    write_text(tmp_path / "windows", "follow_up", "v1.sv.md", "rad ett\r\nrad två\r\n")
    unix = current_text("follow_up", "sv", directory=tmp_path / "unix")
    windows = current_text("follow_up", "sv", directory=tmp_path / "windows")
    assert windows.sha256 == unix.sha256


def test_missing_language_or_version_is_not_found() -> None:
    with pytest.raises(NotFound):
        current_text("follow_up", "ar")
    with pytest.raises(NotFound):
        text_by_version("follow_up", 99, "sv")


def test_one_information_sharing_record_per_party_and_one_for_follow_up() -> None:
    choices = ConsentChoices(("af", "region"), ("halsa", "insatser"), True, "paper")
    records = consent_drafts(choices, language="sv", recorded_by="lena", now=NOW)
    sharing = current_text("information_sharing", "sv")
    follow_up = current_text("follow_up", "sv")
    common = {"method": "paper", "recorded_by": "lena", "given_at": NOW, "language": "sv"}
    assert records == [
        ConsentDraft(
            kind="information_sharing",
            party=party,
            information_kinds=("halsa", "insatser"),
            purpose="samordnad_rehabilitering",
            text_version=sharing.version,
            text_hash=sharing.sha256,
            **common,
        )
        for party in ("af", "region")
    ] + [
        ConsentDraft(
            kind="follow_up",
            party=None,
            information_kinds=(),
            purpose="uppfoljning",
            text_version=follow_up.version,
            text_hash=follow_up.sha256,
            **common,
        )
    ]


def test_no_records_when_no_consent_was_given() -> None:
    choices = ConsentChoices((), (), False, None)
    assert consent_drafts(choices, language="sv", recorded_by="x", now=NOW) == []


def test_follow_up_only_gives_one_record_in_the_language_shown() -> None:
    choices = ConsentChoices((), (), True, "verbal")
    records = consent_drafts(choices, language="en", recorded_by="x", now=NOW)
    assert [(r.kind, r.party, r.language) for r in records] == [("follow_up", None, "en")]


def test_records_keep_the_version_the_participant_was_shown(tmp_path: Path) -> None:
    for kind in CONSENT_KINDS:
        write_text(tmp_path, kind, "v1.sv.md", f"{kind} ett\n")
        write_text(tmp_path, kind, "v2.sv.md", f"{kind} två\n")
    choices = ConsentChoices(("fk",), ("ersattning",), True, "digital")
    records = consent_drafts(
        choices,
        language="sv",
        recorded_by="x",
        now=NOW,
        versions={"information_sharing": 1},
        directory=tmp_path,
    )
    expected_hashes = [
        text_by_version("information_sharing", 1, "sv", directory=tmp_path).sha256,
        text_by_version("follow_up", 2, "sv", directory=tmp_path).sha256,
    ]
    assert [r.text_version for r in records] == [1, 2]
    assert [r.text_hash for r in records] == expected_hashes


def test_records_need_a_timezone_aware_time() -> None:
    choices = ConsentChoices((), (), True, "verbal")
    with pytest.raises(ValueError, match="timezone-aware"):
        consent_drafts(choices, language="sv", recorded_by="x", now=datetime(2026, 1, 1))


def test_withdrawal_is_recorded_with_channel_and_time() -> None:
    at = NOW - timedelta(days=1)
    withdrawal = check_withdrawal(
        given_at=NOW - timedelta(days=30), withdrawn_at=None, channel="telefon", at=at, now=NOW
    )
    assert withdrawal == Withdrawal(channel="telefon", at=at)


def test_a_consent_cannot_be_withdrawn_twice() -> None:
    with pytest.raises(NotAllowed) as raised:
        check_withdrawal(
            given_at=NOW - timedelta(days=30),
            withdrawn_at=datetime(2026, 11, 1, tzinfo=UTC),
            channel="brev",
            at=NOW,
            now=NOW,
        )
    assert raised.value.render() == "Samtycket återkallades redan 2026-11-01."


def test_withdrawal_needs_a_known_channel_and_a_time_after_the_consent() -> None:
    with pytest.raises(FormErrors) as raised:
        check_withdrawal(
            given_at=NOW - timedelta(days=30),
            withdrawn_at=None,
            channel="",
            at=NOW - timedelta(days=31),
            now=NOW,
        )
    assert list(raised.value.errors) == ["channel", "at"]
    assert raised.value.errors["at"].render() == (
        "Samtycket kan inte ha återkallats före 2026-10-23, då det gavs."
    )


def test_withdrawal_cannot_be_in_the_future() -> None:
    with pytest.raises(FormErrors) as raised:
        check_withdrawal(
            given_at=NOW - timedelta(days=30),
            withdrawn_at=None,
            channel="via_remittent",
            at=NOW + timedelta(minutes=5),
            now=NOW,
        )
    assert list(raised.value.errors) == ["at"]


def test_printable_page_has_both_consents_with_their_options() -> None:
    sections = printable_sections("en")
    assert [s.kind for s in sections] == ["information_sharing", "follow_up"]
    assert [s.title for s in sections] == [
        "Consent to information sharing",
        "Consent to follow-up and statistics",
    ]
    assert [s.text for s in sections] == [
        current_text("information_sharing", "en"),
        current_text("follow_up", "en"),
    ]
    assert [c.code for c in sections[0].parties] == list(PARTIES)
    assert [c.code for c in sections[0].information_kinds] == list(INFORMATION_KINDS)
    assert (sections[1].parties, sections[1].information_kinds) == ((), ())
