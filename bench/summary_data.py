"""Fictional data for the summary benchmark: a förbund's referrals and survey answers.

:func:`people` makes participants with one referral each (dates over two and a half years,
some still queued, 1 % of the ended entered by mistake), :func:`history` their status events,
and :class:`SurveyRows` invitations, responses (six answers each) and the themes of the
free-text answers, a few corrected by staff. Rows are plain dicts for bulk inserts.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

FIRST_DAY, LAST_DAY = date(2023, 7, 1), date(2025, 12, 31)
TEAMS = ("norr", "syd", "ost", "vast", "mitt")

_TEXTS = (
    "Gruppen gav mig pepp och jag fick nya vänner.",
    "Min coach lyssnade och hjälpte mig med Försäkringskassan.",
    "Träningen på gymmet gav mig mer energi.",
    "Att ha något att gå upp till på morgonen.",
    "Praktiken ledde till ett jobb.",
    "Bra.",
    "Jag vet inte riktigt.",
    "Studiebesöket på komvux gjorde att jag vågade börja plugga.",
)
_THEMES = ("grupp", "samtal", "egen_kraft", "social", "motion", "struktur", "myndighet", "arbete")
_ACTIVITIES = ("gruppcoachning", "enskilda_samtal", "traning", "studiebesok", "arbetstraning")
_CLOSER = ("ja_mycket", "ja_lite", "nej_ingen_skillnad", "nej_langre_ifran", "vet_inte")
_HEALTH = ("mycket_bra", "bra", "nagorlunda", "daligt", "mycket_daligt")
_REASONS = (
    "arbete",
    "studier",
    "annan_rehab",
    "medicinsk_rehab",
    "vill_ej_delta",
    "flytt",
    "ovrigt",
)
_REFERRERS = ("af", "fk", "region_psykiatri", "kommun_socialtjanst", "egen")
_INCOMES = ("forsorjningsstod", "sjukpenning", "aktivitetsersattning", "a_kassa", "okand")


def _day(rng: random.Random, first: date, last: date) -> date:
    """A random day from ``first`` to ``last``."""
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _at(day: date, hour: int = 12) -> datetime:
    """Midday (or ``hour``) UTC on ``day``."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def people(count: int, seed: int) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(participant, referral) rows: dates over two and a half years, some still queued."""
    rng = random.Random(seed)
    for n in range(1, count + 1):
        received = _day(rng, FIRST_DAY, LAST_DAY)
        start = received + timedelta(days=rng.randrange(10, 120)) if rng.random() < 0.85 else None
        start = start if start and start <= LAST_DAY else None
        end = (
            start + timedelta(days=rng.randrange(20, 700)) if start and rng.random() < 0.7 else None
        )
        end = end if end and end <= LAST_DAY else None
        reason = (
            ("felregistrering" if rng.random() < 0.01 else rng.choice(_REASONS)) if end else None
        )
        team = 1 + n % len(TEAMS)
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(17_000))
        yield (
            {
                "id": n,
                "team_id": team,
                "person_ref": f"B{n}",
                "gender": rng.choice(("kvinna", "man", "annat")),
                "birth_date": born if n % 5 else None,
                "birth_year": born.year,
            },
            {
                "id": n,
                "reference": f"B-{n}",
                "team_id": team,
                "participant_id": n,
                "status": "ended" if end else "enrolled" if start else "queued",
                "received_date": received,
                "received_at": _at(received),
                "referrer_code": rng.choice(_REFERRERS),
                "income_source": rng.choice(_INCOMES),
                "start_date": start,
                "end_date": end,
                "end_reason": reason,
                "trial_months": 3,
                "imported": True,
            },
        )


def history(referral: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The status events of one referral."""
    steps = [
        ("queued", referral["received_date"]),
        ("enrolled", referral["start_date"]),
        ("ended", referral["end_date"]),
    ]
    for status, day in steps:
        if day is not None:
            yield {"referral_id": referral["id"], "to_status": status, "at": _at(day)}


class SurveyRows:
    """Invitations, responses, answers and themes, numbered as they are made."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.invitation = self.answer = 0
        self.rows: dict[str, list[dict[str, Any]]] = {}

    def take(self) -> dict[str, list[dict[str, Any]]]:
        """The rows made since the last call."""
        rows, self.rows = self.rows, {}
        return rows

    def add(self, table: str, row: dict[str, Any]) -> None:
        """Keep a row for ``table``."""
        self.rows.setdefault(table, []).append(row)

    def respond(self, referral: dict[str, Any]) -> int:
        """An invitation and (usually) a completed response of 6 answers; answers made."""
        rng, day = self.rng, referral["start_date"] + timedelta(days=self.rng.randrange(30, 400))
        if day > LAST_DAY:
            return 0
        self.invitation += 1
        n, person, team = self.invitation, referral["participant_id"], referral["team_id"]
        self.add(
            "invitations",
            {
                "id": n,
                "participant_id": person,
                "team_id": team,
                "token_hash": f"{n:064x}",
                "channel": "telegram",
                "created_at": _at(day, 9),
                "expires_at": _at(day + timedelta(days=30)),
            },
        )
        if rng.random() < 0.2:
            return 0
        self.add(
            "responses",
            {
                "id": n,
                "invitation_id": n,
                "participant_id": person,
                "team_id": team,
                "survey_version_id": 1,
                "channel": "telegram",
                "completed_at": _at(day, 15),
                "quote_allowed": rng.random() < 0.6,
            },
        )
        values = {
            "aktiviteter": rng.sample(_ACTIVITIES, rng.randrange(1, 4)),
            "narmare_arbete": rng.choice(_CLOSER),
            "halsa": rng.choice(_HEALTH),
            "citat": True,
        }
        for question, value in values.items():
            self._answer(n, question, value=value)
        useful = self._answer(n, "nytta", text=rng.choice(_TEXTS))
        self._answer(n, "battre", text=None, skipped=True)
        for theme in rng.sample(_THEMES, rng.randrange(0, 3)):
            self.add("answer_themes", {"answer_id": useful, "theme": theme, "source": "auto"})
        if rng.random() < 0.05:
            self.add("answer_themes", {"answer_id": useful, "theme": "samtal", "source": "staff"})
        return 6

    def _answer(self, response: int, question: str, **columns: Any) -> int:
        """Keep an answer row; its id."""
        self.answer += 1
        self.add(
            "answers",
            {
                "id": self.answer,
                "response_id": response,
                "question_id": question,
                "value": columns.get("value"),
                "text": columns.get("text"),
                "skipped": columns.get("skipped", False),
            },
        )
        return self.answer
