"""Outcomes after ending and the Uppföljning Finsam head count, from records, in every format."""

from __future__ import annotations

import io
import secrets
from datetime import date
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select

from reports.periods import Period
from reports.render_docx import render_docx
from reports.render_md import render_markdown
from reports.render_xlsx import render_xlsx
from reports.summary import build_summary
from storage.db import Database
from storage.models import Participant, ProgressStep, Referral, Team
from tests.common.teams import make_team

YEAR_2025 = Period(date(2025, 1, 1), date(2025, 12, 31))


async def add_person(
    db: Database,
    *,
    gender: str = "kvinna",
    start: date = date(2025, 2, 1),
    end: date | None = None,
    reason: str | None = None,
    income: str = "forsorjningsstod",
    after: str | None = None,
    consent: bool = True,
    steps: tuple[tuple[date, str], ...] = (),
    team: str = "ost",
) -> None:
    """One participant with one participation (and its steps on the ladder)."""
    tag = secrets.token_hex(4)
    async with db.transaction() as session:
        team_id = await session.scalar(select(Team.id).where(Team.code == team))
        person = Participant(
            team_id=team_id, person_ref=tag, gender=gender, follow_up_consent=consent
        )
        session.add(person)
        await session.flush()
        referral = Referral(
            reference=f"T-{tag}",
            team_id=team_id,
            participant_id=person.id,
            status="ended" if end else "enrolled",
            received_date=start,
            referrer_code="af",
            start_date=start,
            end_date=end,
            end_reason=reason,
            income_source=income,
            income_source_after=after,
            trial_months=3,
        )
        session.add(referral)
        await session.flush()
        session.add_all(
            ProgressStep(referral_id=referral.id, recorded_on=day, step=step) for day, step in steps
        )


@pytest.fixture
async def ended_team(db: Database) -> Database:
    """Team ost: twelve ended in 2025 with known incomes, reasons and times, and steps."""
    await make_team(db, "ost", "Samverkansteam Öst")
    for n in range(6):  # försörjningsstöd → lön, in work, 10 months
        await add_person(
            db,
            start=date(2024, 12, 1),
            end=date(2025, 10, 1),
            reason="arbete",
            after="lon",
            steps=((date(2024, 12, 5), "kartlaggning"), (date(2025, 3, 1), "arbetstraning")),
        )
    for n in range(4):  # sjukpenning → sjukersättning, 4 months, no follow-up consent
        await add_person(
            db,
            gender="man",
            start=date(2025, 1, 10),
            end=date(2025, 5, 20),
            reason="sjukersattning",
            income="sjukpenning",
            after="sjukersattning",
            consent=False,
        )
    await add_person(db, start=date(2022, 1, 10), end=date(2025, 3, 1), reason="studier")
    await add_person(
        db,
        start=date(2025, 1, 10),
        end=date(2025, 2, 1),
        reason="flytt",
        steps=((date(2025, 1, 11), "arbete"), (date(2025, 1, 20), "aktivitet")),
    )
    return db


async def raw(db: Database) -> dict[str, Any]:
    return await build_summary(db, YEAR_2025, team_code="ost", suppress=False)


async def test_income_after_ending_by_income_at_start(ended_team: Database) -> None:
    transition = (await raw(ended_team))["outcomes"]["after"]["income_transition"]

    assert transition["socialtjanst"] == {"socialtjanst": 0, "fk": 0, "annan": 6, "saknas": 2}
    assert transition["fk"] == {"socialtjanst": 0, "fk": 4, "annan": 0, "saknas": 0}


async def test_occupation_after_ending_in_the_four_groups(ended_team: Database) -> None:
    occupation = (await raw(ended_team))["outcomes"]["after"]["occupation_after"]

    assert occupation == {"arbete": 6, "studier": 1, "arbetssokande": 0, "ovrigt": 5}


async def test_time_in_the_service_in_bands(ended_team: Database) -> None:
    bands = (await raw(ended_team))["outcomes"]["after"]["months_in_service"]
    # 304 days = 10.0 months; 130 days = 4.3; 1146 days = 37.7; 22 days = 0.7
    assert bands == {"under_3": 1, "3_6": 4, "6_12": 6, "12_24": 0, "24_plus": 1}


async def test_steps_forward_count_only_a_higher_rung_in_the_period(ended_team: Database) -> None:
    steps = (await raw(ended_team))["outcomes"]["after"]["steps"]
    # six went kartläggning (2024) → arbetsträning (2025); one went arbete → aktivitet (down)
    assert steps == {"with_step_forward": 6, "share": 0.5}  # of 12 active


async def test_finsam_counts_everyone_by_team_and_gender_and_those_without_consent(
    ended_team: Database,
) -> None:
    await make_team(ended_team, "vast", "Samverkansteam Väst")
    await add_person(ended_team, gender="annat", team="vast", start=date(2023, 5, 1))
    await add_person(
        ended_team, team="vast", start=date(2024, 1, 1), end=date(2024, 12, 31), reason="arbete"
    )  # not in 2025

    finsam = (await build_summary(ended_team, YEAR_2025, suppress=False))["finsam"]

    assert finsam["year"] == 2025
    assert finsam["by_team"] == {
        "ost": {"kvinna": 8, "man": 4, "annat": 0},
        "vast": {"kvinna": 0, "man": 0, "annat": 1},
    }
    assert finsam["without_consent"] == {"ost": {"2025": {"kvinna": 0, "man": 4, "annat": 0}}}


async def test_after_ending_and_finsam_reach_markdown_word_and_excel(ended_team: Database) -> None:
    summary = await raw(ended_team)

    markdown = render_markdown(summary)
    document = Document(io.BytesIO(render_docx(summary, charts={})))
    workbook = load_workbook(io.BytesIO(render_xlsx(summary)))

    assert "**Tabell" in markdown and "Försörjning före → efter" in markdown
    assert "| Arbete (med eller utan stöd, hel- eller deltid) | 6 |" in markdown
    assert "Uppföljning Finsam" in [p.text for p in document.paragraphs]
    headers = [[c.text for c in t.rows[0].cells] for t in document.tables]
    assert ["Insats", "Kvinnor", "Män", "Annat/okänt"] in headers
    assert {"Försörjning före-efter", "Sysselsättning efter", "Tid i insatsen", "Finsam"} <= set(
        workbook.sheetnames
    )


async def test_suppressed_after_ending_tables_hide_small_counts_honestly(
    ended_team: Database,
) -> None:
    markdown = render_markdown(await build_summary(ended_team, YEAR_2025, team_code="ost"))
    # studier 1 is small; arbete 6 and övrigt 5 are hidden only so that it cannot be derived
    assert "| Studier | <5 | 0 |" in markdown
    assert "| Arbete (med eller utan stöd, hel- eller deltid) | .. | 0 |" in markdown
    assert "| ost | .. | <5 | 0 |" in markdown
