"""Importing historical records: every row checked first, all rows or none, upserts, history."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from core.codes import END_REASONS, GENDERS, INCOME_SOURCES, REFERRERS
from services import importing
from services.importing import import_records
from storage.db import Database
from storage.import_file import (
    COLUMNS,
    ImportRejected,
    RecordRow,
    check_file,
    read_records,
    stream_records,
)
from storage.models import AuditEntry, Participant, Referral, ReferralEvent
from tests.common.referrals import make_referral
from tests.common.teams import make_team

TODAY = date(2026, 1, 15)
HEADER = ",".join(COLUMNS)


def read(text: str, *, default_team: str | None = None) -> list[RecordRow]:
    return read_records(
        text, file="f.csv", team_codes={"ost", "vast"}, default_team=default_team, today=TODAY
    )


def problems_of(text: str, *, default_team: str | None = None) -> list[str]:
    """Every problem of the file, as the command line shows them."""
    with pytest.raises(ImportRejected) as caught:
        read(text, default_team=default_team)
    return [str(p) for p in caught.value.problems]


def csv_of(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


GOOD = "P1,kvinna,1990-04-01,,af,a_kassa,2024-01-10,2024-02-01,2024-09-30,arbete,ost"
QUEUED = "P2,man,,1985,fk,,2025-03-01,,,,ost"


def test_a_valid_row_is_read_with_defaults_for_empty_codes() -> None:
    ended, queued = read(csv_of(GOOD, QUEUED))
    assert (ended.line, ended.status, ended.end_reason, ended.birth_year) == (
        2,
        "ended",
        "arbete",
        1990,
    )
    assert (queued.line, queued.status, queued.income_source, queued.birth_date) == (
        3,
        "queued",
        "okand",
        None,
    )


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ("P1,kvina,,,af,,2024-01-10,,,,ost", "gender", "okänd kod kvina"),
        ("P1,,,,,,2024-01-10,,,,ost", "referrer", "värde saknas"),
        (",,,,af,,2024-01-10,,,,ost", "person_ref", "värde saknas"),
        ("P1,,,,af,,2024-13-10,,,,ost", "referral_date", "2024-13-10 är inte ett datum"),
        ("P1,,,,af,,10/1/2024,,,,ost", "referral_date", "är inte ett datum på formen ÅÅÅÅ-MM-DD"),
        ("P1,,,,af,,2024-01-10,2026-02-01,,,ost", "start_date", "ligger i framtiden"),
        ("P1,,,,af,,2024-01-10,2023-12-01,,,ost", "start_date", "före remissdatumet 2024-01-10"),
        ("P1,,,,af,,2024-01-10,2024-02-01,2024-01-31,arbete,ost", "end_date", "före startdatumet"),
        ("P1,,,,af,,2024-01-10,,2024-05-01,arbete,ost", "start_date", "behöver ett startdatum"),
        (
            "P1,,,,af,,2024-01-10,2024-02-01,2024-05-01,,ost",
            "end_reason",
            "behöver en avslutsanledning",
        ),
        ("P1,,,,af,,2024-01-10,2024-02-01,,arbete,ost", "end_reason", "kräver ett slutdatum"),
        (
            "P1,,,,af,,2024-01-10,2024-02-01,2024-05-01,avslutad,ost",
            "end_reason",
            "okänd kod avslutad",
        ),
        (
            "P1,,1990-04-01,1991,af,,2024-01-10,,,,ost",
            "birth_year",
            "stämmer inte med födelsedatumet",
        ),
        ("P1,,,90,af,,2024-01-10,,,,ost", "birth_year", "90 är inte ett födelseår"),
        ("P1,,,,af,,2024-01-10,,,,norr", "team", "okänt team norr"),
        ("P1,,,,af,,2024-01-10,,,,", "team", "fyll i kolumnen team eller ange --team"),
        ("P1,,,,af,,2024-01-10,,,,ost,extra", "–", "fler värden än rubrikraden"),
    ],
)
def test_a_bad_value_is_reported_with_its_line_and_column(
    row: str, column: str, reason: str
) -> None:
    problems = problems_of(csv_of(GOOD, row))
    assert len(problems) == 1
    assert problems[0].startswith(f"f.csv:3: kolumnen {column}: ")
    assert reason in problems[0]


def test_every_problem_of_every_row_is_reported_in_line_order() -> None:
    problems = problems_of(csv_of("P1,kvina,,,xx,,2024-01-10,,,,ost", GOOD, "P3,,,,af,,,,,,ost"))
    assert [p.split(": ")[0:2] for p in problems] == [
        ["f.csv:2", "kolumnen gender"], ["f.csv:2", "kolumnen referrer"],
        ["f.csv:4", "kolumnen referral_date"],
    ]  # fmt: skip


def test_the_same_person_twice_in_a_file_is_refused_but_not_across_teams() -> None:
    problems = problems_of(csv_of(GOOD, GOOD.replace("2024-01-10", "2024-01-11")))
    assert problems == ["f.csv:3: kolumnen person_ref: samma person_ref och team som på rad 2"]
    assert len(read(csv_of(GOOD, GOOD.replace(",ost", ",vast")))) == 2


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("person_ref;gender;referrer", "f.csv:1: kolumnen –: kolumnerna skiljs med semikolon"),
        (HEADER + ",birthdate", "f.csv:1: kolumnen birthdate: okänd kolumn"),
        (HEADER.replace("referrer,", ""), "f.csv:1: kolumnen referrer: kolumnen saknas"),
        (HEADER + ",gender", "f.csv:1: kolumnen gender: kolumnen finns två gånger"),
    ],
)
def test_a_bad_header_is_reported_on_line_1(header: str, expected: str) -> None:
    assert problems_of(csv_of(header=header))[0].startswith(expected)


def test_a_multi_line_value_keeps_line_numbers_as_in_the_file() -> None:
    text = csv_of('"P1\nP1",,,,af,,2024-01-10,,,,ost', "P2,,,,xx,,2024-01-10,,,,ost")
    problems = problems_of(text)
    assert problems[0].startswith("f.csv:2: kolumnen person_ref: otillåtna tecken")
    assert problems[1].startswith("f.csv:4: kolumnen referrer")


def test_team_comes_from_the_option_and_must_agree_with_the_row() -> None:
    header = HEADER.removesuffix(",team")
    rows = read(csv_of(GOOD.removesuffix(",ost"), header=header), default_team="vast")
    assert rows[0].team == "vast"
    problems = problems_of(csv_of(GOOD), default_team="vast")
    assert problems == ["f.csv:2: kolumnen team: raden gäller ost, men --team är vast"]


def test_text_that_is_not_csv_is_reported_with_its_line() -> None:
    huge = "x" * 200_000  # over the csv module's field size limit
    problems = problems_of(csv_of(GOOD, f"P2,{huge},,,af,,2024-01-10,,,,ost"))
    assert problems == [
        "f.csv:3: kolumnen –: filen kan inte läsas som CSV (field larger than field limit (131072))"
    ]


def test_a_byte_order_mark_and_blank_lines_are_fine() -> None:
    assert [r.line for r in read("\ufeff" + csv_of(GOOD, "", QUEUED))] == [2, 4]


_CODES = {
    "gender": list(GENDERS),
    "referrer": list(REFERRERS),
    "income_source": list(INCOME_SOURCES),
}


@st.composite
def record_rows(draw: st.DrawFn) -> dict[str, str]:
    """A valid row: codes from the lists, dates in order, optional end with a reason."""
    referral = draw(st.dates(date(2015, 1, 1), date(2025, 12, 31)))
    start = draw(st.none() | st.dates(referral, TODAY))
    end = draw(st.none() | st.dates(start, TODAY)) if start else None
    return {
        "person_ref": draw(st.text("ABCDEFGHJK0123456789-", min_size=1, max_size=12)),
        "gender": draw(st.sampled_from(_CODES["gender"])),
        "birth_year": str(draw(st.integers(1950, 2010))),
        "referrer": draw(st.sampled_from(_CODES["referrer"])),
        "income_source": draw(st.sampled_from(_CODES["income_source"])),
        "referral_date": referral.isoformat(),
        "start_date": start.isoformat() if start else "",
        "end_date": end.isoformat() if end else "",
        "end_reason": draw(st.sampled_from(list(END_REASONS))) if end else "",
        "team": draw(st.sampled_from(["ost", "vast"])),
    }


def as_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        record_rows(), min_size=1, max_size=8, unique_by=lambda r: (r["team"], r["person_ref"])
    )
)
def test_valid_rows_are_read_back_as_written(rows: list[dict[str, str]]) -> None:
    read_back = read(as_csv(rows))
    assert [(r.person_ref, r.team, r.gender, r.referrer) for r in read_back] == [
        (r["person_ref"], r["team"], r["gender"], r["referrer"]) for r in rows
    ]
    assert [r.start_date.isoformat() if r.start_date else "" for r in read_back] == [
        r["start_date"] for r in rows
    ]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        record_rows(), min_size=1, max_size=8, unique_by=lambda r: (r["team"], r["person_ref"])
    ),
    st.data(),
)
def test_an_unknown_code_is_reported_at_its_row_and_column(
    rows: list[dict[str, str]], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(rows) - 1))
    column = data.draw(st.sampled_from(sorted(_CODES)))
    rows[index][column] = data.draw(st.text("xyzåäö_", min_size=1, max_size=8))
    problems = problems_of(as_csv(rows))
    assert problems == [
        p for p in problems if p.startswith(f"f.csv:{index + 2}: kolumnen {column}: okänd kod")
    ]
    assert len(problems) == 1


# --- storing ---------------------------------------------------------------------------------


@pytest.fixture
async def teams(db: Database) -> Database:
    await make_team(db, "ost", "Samverkansteam Öst", trial_months=2)
    await make_team(db, "vast", "Samverkansteam Väst")
    return db


async def count(db: Database, entity: type) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(entity)) or 0)


async def test_rows_become_participants_referrals_and_their_history(teams: Database) -> None:
    result = await import_records(teams, read(csv_of(GOOD, QUEUED)), file="f.csv")
    assert (result.created, result.updated, result.teams) == (2, 0, ("ost",))
    async with teams.sessions() as session:
        ended = await session.scalar(
            select(Referral).join(Participant).where(Participant.person_ref == "P1")
        )
        assert ended is not None
        assert (ended.status, ended.imported, ended.trial_months, ended.end_reason) == (
            "ended",
            True,
            2,
            "arbete",
        )
        history = (
            await session.scalars(
                select(ReferralEvent.to_status)
                .where(ReferralEvent.referral_id == ended.id)
                .order_by(ReferralEvent.id)
            )
        ).all()
        audit = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "records.imported"))
        ).one()
    assert history == ["queued", "enrolled", "ended"]
    assert audit.detail == {"rows": 2, "created": 2, "teams": ["ost"]}


async def test_importing_the_same_person_again_updates_the_record(teams: Database) -> None:
    await import_records(teams, read(csv_of(GOOD, QUEUED)), file="f.csv")
    started = QUEUED.replace("2025-03-01,,", "2025-03-01,2025-04-01,")
    result = await import_records(teams, read(csv_of(started)), file="f.csv")
    assert (result.created, result.updated) == (0, 1)
    assert (await count(teams, Participant), await count(teams, Referral)) == (2, 2)
    async with teams.sessions() as session:
        referral = await session.scalar(
            select(Referral).join(Participant).where(Participant.person_ref == "P2")
        )
        assert referral is not None and referral.status == "enrolled"
        history = (
            await session.scalars(
                select(ReferralEvent.to_status).where(ReferralEvent.referral_id == referral.id)
            )
        ).all()
    assert sorted(history) == ["enrolled", "queued"]


@pytest.fixture
async def third_referral_insert_fails(teams: Database) -> AsyncIterator[Database]:
    """The database itself refuses the third row inserted into ``referrals`` (a real trigger)."""
    if teams.dialect == "sqlite":
        create = [
            "CREATE TRIGGER test_fail_third_referral BEFORE INSERT ON referrals "
            "WHEN (SELECT count(*) FROM referrals) >= 2 "
            "BEGIN SELECT RAISE(ABORT, 'injected failure at the third referral'); END"
        ]
        drop = ["DROP TRIGGER test_fail_third_referral"]
    else:
        create = [
            "CREATE FUNCTION test_fail_third_referral() RETURNS trigger AS $$ BEGIN "
            "IF (SELECT count(*) FROM referrals) >= 2 THEN "
            "RAISE EXCEPTION 'injected failure at the third referral'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER test_fail_third_referral BEFORE INSERT ON referrals "
            "FOR EACH ROW EXECUTE FUNCTION test_fail_third_referral()",
        ]
        drop = [
            "DROP TRIGGER test_fail_third_referral ON referrals",
            "DROP FUNCTION test_fail_third_referral()",
        ]
    async with teams.engine.begin() as conn:
        for statement in create:
            await conn.execute(text(statement))
    yield teams
    async with teams.engine.begin() as conn:
        for statement in drop:
            await conn.execute(text(statement))


async def test_a_row_that_fails_while_storing_stores_nothing(
    third_referral_insert_fails: Database,
) -> None:
    db = third_referral_insert_fails
    rows = read(csv_of(GOOD, QUEUED, "P3,kvinna,,1970,fk,,2025-05-02,,,,ost"))
    assert len(rows) == 3  # every row passes the checks; the failure comes while storing
    with pytest.raises(DBAPIError, match="injected failure at the third referral"):
        await import_records(db, rows, file="f.csv")
    stored = [await count(db, table) for table in (Participant, Referral, ReferralEvent)]
    assert stored == [0, 0, 0]
    async with db.sessions() as session:
        imported = await session.scalar(
            select(func.count()).where(AuditEntry.action == "records.imported")
        )
    assert imported == 0


async def test_a_failed_import_leaves_an_earlier_import_as_it_was(
    third_referral_insert_fails: Database,
) -> None:
    db = third_referral_insert_fails
    await import_records(db, read(csv_of(QUEUED)), file="f.csv")
    started = QUEUED.replace("2025-03-01,,", "2025-03-01,2025-04-01,")
    rows = read(csv_of(GOOD, started, "P3,kvinna,,1970,fk,,2025-05-02,,,,ost"))
    with pytest.raises(DBAPIError, match="injected failure"):
        await import_records(db, rows, file="f.csv")
    async with db.sessions() as session:
        statuses = (await session.scalars(select(Referral.status))).all()
    assert (await count(db, Participant), statuses) == (1, ["queued"])


async def test_a_referral_registered_in_the_service_is_never_overwritten(teams: Database) -> None:
    await make_team(teams, "norr", "Samverkansteam Norr")
    submission = await make_referral(teams)
    text = csv_of(GOOD.replace("P1,", f"{submission.reference},").replace(",ost", ",norr"))
    rows = read_records(text, file="f.csv", team_codes={"norr"}, default_team=None, today=TODAY)
    with pytest.raises(ImportRejected) as caught:
        await import_records(teams, rows, file="f.csv")
    assert str(caught.value).startswith("f.csv:2: kolumnen person_ref: finns redan som ett ärende")
    assert await count(teams, Referral) == 1


# --- reading the file as a stream of bytes ---------------------------------------------------


def check_bytes(data: bytes) -> list[str]:
    """Every problem of the file given as bytes, as the command line shows them."""
    with pytest.raises(ImportRejected) as caught:
        check_file(
            io.BytesIO(data), file="f.csv", team_codes={"ost"}, default_team=None, today=TODAY
        )
    return [str(p) for p in caught.value.problems]


def test_a_byte_that_is_not_utf8_is_reported_with_its_line_and_column() -> None:
    latin1 = "P2,kvinna,,,af,,2024-01-10,,,,ost".replace("kvinna", "kvinnå").encode("latin-1")
    data = csv_of(GOOD).encode() + latin1 + b"\n"
    assert check_bytes(data) == [
        "f.csv:3: kolumnen gender: inte UTF-8 (byte 0xE5, tecken 9 på raden); "
        "spara filen som CSV UTF-8"
    ]


def test_a_byte_that_is_not_utf8_after_a_multi_line_value_names_its_column() -> None:
    data = csv_of('"P1\nx",,,,af,,2024-01-10,,,,ost').encode().replace(b"af", b"\xe5f")
    assert check_bytes(data)[0].startswith("f.csv:3: kolumnen referrer: inte UTF-8 (byte 0xE5")


@pytest.mark.parametrize("rows_after", [0, 3, 2_000])
def test_an_unclosed_quote_is_reported_where_it_opens(rows_after: int) -> None:
    after = [GOOD.replace("P1,", f"Q{i},") for i in range(rows_after)]
    data = csv_of(GOOD, 'P2,"man,,,af,,2024-01-10,,,,ost', *after).encode()
    assert check_bytes(data) == [
        "f.csv:3: kolumnen gender: citattecknet som börjar här stängs aldrig"
    ]


def test_a_quote_inside_a_value_is_a_character_as_in_the_csv_module() -> None:
    rows = read(csv_of('P"1,,,,af,,2024-01-10,,,,ost', '"P2",,,,af,,2024-01-10,,,,ost'))
    assert [r.person_ref for r in rows] == ['P"1', "P2"]


def test_control_characters_from_the_file_are_shown_escaped_and_cut() -> None:
    text = csv_of(
        "P1,\x1b[2J\x1b[31mkvinna,,,af,,2024-01-10,,,,ost",
        "P2,,,,af,,2024-01-10,,,," + "ost" * 40,
        header=HEADER + ",\x07bell",
    )
    problems = problems_of(text)
    assert problems[0] == "f.csv:1: kolumnen \\x07bell: okänd kolumn"
    assert not any(c in p for p in problems for c in "\x1b\x07")
    assert problems_of(csv_of("P1,\x1b[2Jkvinna,,,af,,2024-01-10,,,,ost"))[0].startswith(
        "f.csv:2: kolumnen gender: okänd kod \\x1b[2Jkvinna;"
    )
    long = problems_of(csv_of("P2,,,,af,,2024-01-10,,,," + "ost" * 40))[0]
    assert "okänt team " + "ost" * 13 + "o…;" in long


def test_a_file_with_many_problems_keeps_the_first_thousand_and_counts_the_rest() -> None:
    bad = [f"P{i},kvina,,,af,,2024-01-10,,,,ost" for i in range(1_500)]
    with pytest.raises(ImportRejected) as caught:
        check_file(
            io.BytesIO(csv_of(*bad).encode()),
            file="f.csv",
            team_codes={"ost"},
            default_team=None,
            today=TODAY,
        )
    assert (len(caught.value.problems), caught.value.total) == (1_000, 1_500)
    assert str(caught.value).endswith("(och 1499 fel till)")


async def test_a_streamed_file_is_stored_in_batches_all_or_none(
    teams: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importing, "BATCH_ROWS", 2)
    rows = [GOOD.replace("P1,", f"P{i},") for i in range(1, 6)]
    data = csv_of(*rows).encode()
    given = {"file": "f.csv", "team_codes": {"ost"}, "default_team": None, "today": TODAY}
    assert check_file(io.BytesIO(data), **given) == 5  # type: ignore[arg-type]
    stream = stream_records(io.BytesIO(data), **given)  # type: ignore[arg-type]
    result = await import_records(teams, stream, file="f.csv")
    assert (result.created, result.updated) == (5, 0)
    assert (await count(teams, Participant), await count(teams, ReferralEvent)) == (5, 15)
    # A live referral met in the last batch: nothing of the earlier batches is kept.
    await make_team(teams, "norr", "Samverkansteam Norr")
    live = await make_referral(teams)
    more = [r.replace(",ost", ",norr").replace("P", "N") for r in rows] + [
        GOOD.replace("P1,", f"{live.reference},").replace(",ost", ",norr")
    ]
    given["team_codes"] = {"norr"}
    stream = stream_records(io.BytesIO(csv_of(*more).encode()), **given)  # type: ignore[arg-type]
    with pytest.raises(ImportRejected) as caught:
        await import_records(teams, stream, file="f.csv")
    assert str(caught.value).startswith("f.csv:7: kolumnen person_ref: finns redan")
    assert await count(teams, Participant) == 6  # the 5 imported and the live one
