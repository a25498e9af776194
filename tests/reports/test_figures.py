"""The SQL building blocks and figures that the hand-computed summary does not reach alone:
date arithmetic against Python's, medians, the queue from the status history, and the survey.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from core.clock import local_midnight
from core.personnummer import completed_years
from core.referrals import is_dropout
from core.themes import default_codebook
from reports.figures import age_at, queue_at, throughput_days
from reports.figures import is_dropout as dropout_condition
from reports.periods import Period
from reports.quotes import representative_quotes
from reports.scope import load_scope
from reports.sql import medians
from reports.survey_figures import survey_figures
from storage.db import Database
from storage.models import Participant, Referral, ReferralEvent, Team
from tests.common.surveys import make_survey_response
from tests.common.teams import make_team

H1_2025 = Period(date(2025, 1, 1), date(2025, 6, 30))


def month_ends_and_random_days(count: int, seed: int) -> list[date]:
    """Last days of months (leap years too) and random days from 2019 to 2026."""
    rng = random.Random(seed)
    ends = [date(y, m, 1) - timedelta(days=1) for y in (2020, 2021, 2024) for m in range(1, 13)]
    first = date(2019, 1, 1).toordinal()
    return ends + [date.fromordinal(first + rng.randrange(2900)) for _ in range(count)]


async def add_participations(
    db: Database, spans: Iterable[tuple[date, date | None, int]], *, team: str = "ost"
) -> list[int]:
    """Referrals (with one participant each) started and ended on the given dates."""
    ids, tag = [], secrets.token_hex(3)
    async with db.transaction() as session:
        team_id = await session.scalar(select(Team.id).where(Team.code == team))
        for n, (start, end, months) in enumerate(spans):
            person = Participant(
                team_id=team_id,
                person_ref=f"{team}-{tag}-{n}",
                gender="kvinna",
                birth_date=start - timedelta(days=365 * 30 + n),
            )
            session.add(person)
            await session.flush()
            referral = Referral(
                reference=f"T-{tag}-{n}",
                team_id=team_id,
                participant_id=person.id,
                status="ended" if end else "enrolled",
                received_date=start,
                referrer_code="af",
                start_date=start,
                end_date=end,
                end_reason="arbete" if end else None,
                trial_months=months,
            )
            session.add(referral)
            await session.flush()
            ids.append(referral.id)
    return ids


@pytest.fixture
async def ost(db: Database) -> Database:
    await make_team(db, "ost", "Samverkansteam Öst")
    await make_team(db, "vast", "Samverkansteam Väst")
    return db


async def test_dropouts_in_sql_follow_the_trial_period_rule_of_core(ost: Database) -> None:
    rng = random.Random(5)
    starts = month_ends_and_random_days(150, seed=1)
    spans = []
    for start in starts:
        months = rng.choice((2, 3))
        end = start + timedelta(
            days=rng.choice((27, 28, 29, 30, 31, 58, 59, 60, 61, 62, 89, 90, 91, 92, 120))
        )
        spans.append((start, end, months))
    ids = await add_participations(ost, spans)
    async with ost.engine.connect() as conn:
        found = set(
            await conn.scalars(
                select(Referral.id)
                .join(Team, Team.id == Referral.team_id)
                .where(dropout_condition())
            )
        )
    expected = {i for i, (s, e, m) in zip(ids, spans, strict=True) if is_dropout(s, e, m)}
    assert found == expected
    assert 0 < len(expected) < len(ids)


async def test_days_between_counts_calendar_days_across_leap_years(ost: Database) -> None:
    starts = month_ends_and_random_days(60, seed=2)
    spans = [(s, s + timedelta(days=n * 37 % 900), 3) for n, s in enumerate(starts)]
    ids = await add_participations(ost, spans)
    async with ost.engine.connect() as conn:
        rows = dict((await conn.execute(select(Referral.id, throughput_days()))).all())
    assert rows == {i: (e - s).days for i, (s, e, _) in zip(ids, spans, strict=True)}


async def test_age_in_sql_is_completed_years_on_the_day(ost: Database) -> None:
    births = [date(2000, 2, 29), date(1990, 6, 30), date(1990, 7, 1), date(1985, 12, 31)]
    births += month_ends_and_random_days(40, seed=3)
    days = [date(2025, 2, 28), date(2024, 2, 29), date(2025, 6, 30), date(2025, 12, 31)]
    async with ost.transaction() as session:
        team_id = await session.scalar(select(Team.id).where(Team.code == "ost"))
        for n, born in enumerate(births):
            session.add(Participant(team_id=team_id, person_ref=f"A{n}", birth_date=born))
        session.add(Participant(team_id=team_id, person_ref="Y", birth_year=1996))
    async with ost.engine.connect() as conn:
        for day in days:
            ages = dict((await conn.execute(select(Participant.person_ref, age_at(day)))).all())
            assert ages.pop("Y") == completed_years(date(1996, 7, 1), day)
            assert ages == {f"A{n}": completed_years(b, day) for n, b in enumerate(births)}


async def test_medians_take_the_middle_value_or_the_mean_of_the_two_middle(ost: Database) -> None:
    # group 2022: 10 20 30 → 20; group 2023: 5 7 100 200 → (7 + 100) / 2 = 53.5
    spans = [(date(2022, 1, 1), date(2022, 1, 1) + timedelta(days=d), 3) for d in (30, 10, 20)]
    spans += [(date(2023, 1, 1), date(2023, 1, 1) + timedelta(days=d), 3) for d in (200, 5, 100, 7)]
    await add_participations(ost, spans)
    from reports.sql import year

    values = select(year(Referral.start_date).label("key"), throughput_days().label("value"))
    async with ost.engine.connect() as conn:
        found = {int(k): float(m) for k, m in (await conn.execute(medians(values))).all()}
    assert found == {2022: 20.0, 2023: 53.5}


async def add_history(db: Database, referral_id: int, steps: list[tuple[str, datetime]]) -> None:
    """Status events of a referral at the given instants."""
    async with db.transaction() as session:
        session.add_all(
            ReferralEvent(referral_id=referral_id, to_status=status, at=at) for status, at in steps
        )


async def test_queue_at_the_end_of_a_day_follows_the_latest_status(ost: Database) -> None:
    (booked, enrolled_next_day, back_in_queue, declined) = await add_participations(
        ost, [(date(2025, 8, 1), None, 3)] * 4
    )
    late_evening = local_midnight(date(2025, 7, 1)) - timedelta(minutes=5)  # 23:55 on 30 June
    await add_history(
        ost, booked, [("queued", datetime(2025, 3, 1, tzinfo=UTC)), ("visit_booked", late_evening)]
    )
    await add_history(
        ost,
        enrolled_next_day,
        [
            ("queued", datetime(2025, 3, 1, tzinfo=UTC)),
            ("enrolled", local_midnight(date(2025, 7, 1))),
        ],
    )
    await add_history(
        ost,
        back_in_queue,
        [
            ("queued", datetime(2025, 2, 1, tzinfo=UTC)),
            ("visit_booked", datetime(2025, 3, 1, tzinfo=UTC)),
            ("queued", datetime(2025, 4, 1, tzinfo=UTC)),
        ],
    )
    await add_history(
        ost,
        declined,
        [
            ("queued", datetime(2025, 2, 1, tzinfo=UTC)),
            ("declined", datetime(2025, 5, 1, tzinfo=UTC)),
        ],
    )
    async with ost.engine.connect() as conn:
        scope = await load_scope(conn, "ost")
        assert await queue_at(conn, scope, date(2025, 6, 30)) == 3  # booked, next day, back
        assert await queue_at(conn, scope, date(2025, 7, 1)) == 2  # enrolled at midnight
        assert await queue_at(conn, scope, date(2025, 1, 31)) == 0  # nothing happened yet


# --- the survey ------------------------------------------------------------------------------


def stockholm(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant given in Swedish time."""
    return local_midnight(day) + timedelta(hours=hour, minutes=minute)


@pytest.fixture
async def people(ost: Database) -> dict[str, int]:
    """Participant ids: three of ost, one entered by mistake, one of vast."""
    spans = [(date(2024, 9, 2), None, 3)] * 3
    ids = await add_participations(ost, spans)
    mistaken = await add_participations(ost, [(date(2025, 1, 7), date(2025, 1, 8), 3)], team="ost")
    other = await add_participations(ost, [(date(2024, 9, 2), None, 3)], team="vast")
    async with ost.transaction() as session:
        await session.execute(
            Referral.__table__.update()
            .where(Referral.id == mistaken[0])
            .values(end_reason="felregistrering")
        )
        rows = await session.execute(select(Referral.id, Referral.participant_id))
        person_of = dict(rows.all())
    names = ["anna", "bo", "cilla", "mistake", "vast"]
    return dict(zip(names, [person_of[i] for i in ids + mistaken + other], strict=True))


async def figures_of(db: Database, team: str | None = "ost") -> dict[str, object]:
    async with db.engine.connect() as conn:
        scope = await load_scope(conn, team)
        return await survey_figures(conn, scope, H1_2025, default_codebook())


async def test_survey_counts_completed_responses_in_swedish_time(
    people: dict[str, int], ost: Database
) -> None:
    closer = {"narmare_arbete": "ja_lite", "halsa": "bra"}
    # in the period: 23:30 on 30 June and 00:30 on 1 January, Swedish time
    await make_survey_response(
        ost,
        people["anna"],
        completed=stockholm(date(2025, 6, 30), 23, 30),
        choices=closer,
        invited=stockholm(date(2025, 6, 1), 9),
    )
    await make_survey_response(
        ost,
        people["bo"],
        completed=stockholm(date(2025, 1, 1), 0, 30),
        choices={"narmare_arbete": "nej_ingen_skillnad", "halsa": "daligt"},
        invited=stockholm(date(2024, 12, 20), 9),
    )
    # not in it: completed 00:10 on 1 July; never completed; a mistake; another team
    await make_survey_response(
        ost,
        people["cilla"],
        completed=stockholm(date(2025, 7, 1), 0, 10),
        choices=closer,
        invited=stockholm(date(2025, 6, 2), 9),
    )
    await make_survey_response(
        ost, people["cilla"], completed=None, invited=stockholm(date(2025, 3, 1), 9)
    )
    await make_survey_response(
        ost, people["mistake"], completed=stockholm(date(2025, 2, 1), 9), choices=closer
    )
    await make_survey_response(
        ost, people["vast"], completed=stockholm(date(2025, 2, 1), 9), choices=closer
    )
    survey = await figures_of(ost)
    # invited in the period: anna (06-01), cilla (06-02 and 03-01: one person) = 2;
    # responses completed in the period: anna, bo = 2
    assert (survey["invited"], survey["responses"], survey["response_rate"]) == (2, 2, 2 / 2)
    assert survey["closer_to_work"] == {
        "respondents": 2, "closer": 1, "share": 0.5,
        "by_answer": {"ja_mycket": 0, "ja_lite": 1, "nej_ingen_skillnad": 1,
                      "nej_langre_ifran": 0, "vet_inte": 0},
    }  # fmt: skip
    assert survey["health"]["by_answer"] == {
        "mycket_bra": 0, "bra": 1, "nagorlunda": 0, "daligt": 1, "mycket_daligt": 0,
    }  # fmt: skip
    assert (survey["health"]["good"], survey["health"]["share_good"]) == (1, 0.5)
    forbund = await figures_of(ost, None)
    assert forbund["responses"] == 3  # vast's too, never the mistake


async def test_activities_count_each_option_chosen(people: dict[str, int], ost: Database) -> None:
    june = stockholm(date(2025, 6, 10), 12)
    await make_survey_response(
        ost, people["anna"], completed=june, choices={"aktiviteter": ["traning", "enskilda_samtal"]}
    )
    await make_survey_response(
        ost, people["bo"], completed=june, choices={"aktiviteter": ["enskilda_samtal", "egen_sak"]}
    )
    activities = (await figures_of(ost))["activities"]
    assert activities["enskilda_samtal"] == 2
    assert activities["traning"] == 1
    assert activities["gruppcoachning"] == 0
    assert activities["egen_sak"] == 1  # an option a team added


async def test_a_staff_correction_of_themes_wins_and_no_theme_is_unthemed(
    people: dict[str, int], ost: Database
) -> None:
    june = stockholm(date(2025, 6, 10), 12)
    await make_survey_response(
        ost,
        people["anna"],
        completed=june,
        useful="Gruppen och gymmet",
        auto_themes=["grupp", "motion"],
    )
    await make_survey_response(
        ost,
        people["bo"],
        completed=june,
        useful="Samtalen",
        auto_themes=["grupp"],
        staff_themes=["samtal"],
    )
    await make_survey_response(
        ost, people["cilla"], completed=june, useful="Allt", auto_themes=["nytt"], staff_themes=[]
    )
    await make_survey_response(ost, people["vast"], completed=june, useful="Inget särskilt")
    survey = await figures_of(ost, None)
    # anna: grupp, motion (automatic); bo: samtal (staff, not grupp); cilla: corrected to none
    themes = survey["themes"]
    assert (themes["grupp"], themes["motion"], themes["samtal"], themes["nytt"]) == (1, 1, 1, 0)
    assert survey["unthemed"] == 2  # cilla (corrected to none) and vast's answer without themes
    assert list(themes) == list(default_codebook().codes)


async def test_quotes_only_with_permission_and_without_personal_data(
    people: dict[str, int], ost: Database
) -> None:
    june = stockholm(date(2025, 6, 10), 12)
    allowed = "Min coach Johanna ringde mig på 070-123 45 67 och hjälpte mig med gruppen."
    await make_survey_response(
        ost,
        people["anna"],
        completed=june,
        useful=allowed,
        auto_themes=["grupp", "samtal"],
        quote_allowed=True,
    )
    await make_survey_response(
        ost,
        people["bo"],
        completed=june,
        useful="Hemligt om gruppen",
        auto_themes=["grupp"],
        quote_allowed=False,
    )
    await make_survey_response(
        ost,
        people["cilla"],
        completed=june,
        useful="Skriv till a@b.se",
        auto_themes=["arbete"],
        staff_themes=["myndighet"],
        quote_allowed=True,
    )
    async with ost.engine.connect() as conn:
        scope = await load_scope(conn, "ost")
        quotes = await representative_quotes(conn, scope, H1_2025, default_codebook())
    texts = [q["text"] for q in quotes]
    assert len(texts) == 2 and not any("Hemligt" in t for t in texts)
    assert all("Johanna" not in t and "070" not in t and "a@b.se" not in t for t in texts)
    assert {"themes": ["myndighet"], "text": "Skriv till [e-post]"} in quotes
    assert next(q for q in quotes if "coach" in q["text"])["themes"] == ["grupp", "samtal"]
