"""Fictional, realistic demo data: one förbund, two teams, three years of referrals,
participants, consents and survey answers. Deterministic: the same seed and anchor date
give the same data. Nothing here describes a real person.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from stdnum import luhn

from core import surveys, themes
from core.codes import PROGRESS_STEPS
from core.consent import current_text
from storage import users
from storage.db import Database
from storage.demo_texts import (
    BETTER_ANSWERS,
    FIRST_NAMES_F,
    FIRST_NAMES_M,
    LAST_NAMES,
    STEP_NOTES,
    USEFUL_ANSWERS,
)
from storage.models import (
    Answer,
    AnswerTheme,
    Consent,
    Invitation,
    Participant,
    ProgressStep,
    Referral,
    ReferralEvent,
    Response,
    StaffUser,
    SurveyVersion,
    Team,
)

FORBUND = "Samordningsförbundet Älvdalen (fiktivt)"
TEAMS = (("norr", "Samverkansteam Norr", 3), ("syd", "Resursteam Syd", 2))
#: The teams' public contact details for participants (fictional: 010-… numbers, example.se).
CONTACTS = {
    "norr": ("010-123 45 00", "samverkan.norr@example.se"),
    "syd": ("010-123 46 00", None),
}
DEMO_PASSWORD = "demo-losenord-2026"  # noqa: S105 - the published password of fictional demo accounts
DEMO_USERS = (
    # Display names are fictional people: quotes have staff names removed, so a name such as
    # "Coach Norr" would take the word "coach" out of every answer that mentions one.
    ("samordnare@demo.samverkan.se", "coordinator", "norr", "Birgitta Lövgren"),
    ("coach@demo.samverkan.se", "staff", "norr", "Mats Ekholm"),
    ("samordnare.syd@demo.samverkan.se", "coordinator", "syd", "Eva Strandberg"),
    ("admin@demo.samverkan.se", "admin", None, "Förbundets administratör"),
)
REFERRERS = (
    ("kommun_socialtjanst", 20),
    ("kommun_arbetsmarknad", 12),
    ("af", 25),
    ("fk", 15),
    ("region_psykiatri", 12),
    ("region_primarvard", 8),
    ("egen", 5),
    ("annan", 3),
)
INCOME = (
    ("forsorjningsstod", 35),
    ("sjukpenning", 18),
    ("aktivitetsersattning", 14),
    ("aktivitetsstod", 12),
    ("sjukersattning", 4),
    ("etableringsersattning", 5),
    ("ingen", 6),
    ("lon", 2),
    ("okand", 4),
)
END_REASONS = (
    ("arbete", 22),
    ("studier", 12),
    ("annan_rehab", 10),
    ("arbetssokande", 8),
    ("medicinsk_rehab", 12),
    ("fortsatt_rehab", 8),
    ("sjukersattning", 3),
    ("flytt", 4),
    ("vill_ej_delta", 7),
    ("foraldraledig", 3),
    ("ovrigt", 4),
    ("medgivande_aterkallat", 2),
    ("felregistrering", 2),
)
DECLINE_MESSAGE = "Personen får redan stöd i en annan insats som passar bättre (fiktivt)."
WITHDRAWAL_NOTE = "Remittenten återtog remissen i telefon (fiktivt)."
ACTIVITIES = (
    "gruppcoachning",
    "enskilda_samtal",
    "traning",
    "studiebesok",
    "arbetstraning",
    "social_samvaro",
    "myndighetsstod",
    "annat",
)


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    codes, weights = zip(*weighted, strict=True)
    return str(rng.choices(codes, weights)[0])


def _personnummer(rng: random.Random, birth: date, gender: str) -> str:
    serial = rng.randrange(0, 100) * 10 + (
        rng.randrange(1, 10, 2) if gender == "man" else rng.randrange(0, 10, 2)
    )
    body = birth.strftime("%y%m%d") + f"{serial:03d}"
    return birth.strftime("%Y%m%d") + f"{serial:03d}" + luhn.calc_check_digit(body)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@dataclass
class _Counter:
    referrals: int = 0
    answers: int = 0


class _Deck:
    """Texts dealt without repeats until every one has been dealt, then reshuffled: answers in
    one period differ, as real answers do."""

    def __init__(self, rng: random.Random, texts: list[str]) -> None:
        self.rng, self.texts, self.left = rng, texts, list[str]()

    def deal(self) -> str:
        if not self.left:
            self.left = list(self.texts)
            self.rng.shuffle(self.left)
        return self.left.pop()


@dataclass(frozen=True)
class _Staff:
    """Who in the team records what: the coordinator moves referrals, the coach the steps."""

    coordinator: int | None
    coach: int | None


async def load_demo_data(
    db: Database, *, anchor: date | None = None, seed: int = 2026
) -> dict[str, int]:
    """Fill an empty database with demo data; returns counts. Refuses a database with teams."""
    anchor = anchor or date.today()
    rng = random.Random(seed)
    async with db.transaction() as session:
        if await session.scalar(select(func.count(Team.id))):
            raise ValueError("the database already has data; demo data goes into an empty database")
        for code, name, trial in TEAMS:
            session.add(
                Team(
                    code=code,
                    name=name,
                    forbund=FORBUND,
                    trial_months=trial,
                    contact_phone=CONTACTS[code][0],
                    contact_email=CONTACTS[code][1],
                    goals=[
                        {
                            "text": "minst 50 % upplever en stegförflyttning",
                            "metric": "survey.closer_to_work.share",
                            "op": ">=",
                            "target": 0.5,
                        },
                        {
                            "text": "minst 20 % till arbete eller studier",
                            "metric": "outcomes.share_result",
                            "op": ">=",
                            "target": 0.2,
                        },
                    ],
                )
            )
        await session.flush()
        for email, role, team_code, display in DEMO_USERS:
            await users.create_user(
                session, email, DEMO_PASSWORD, role=role, team_code=team_code, display_name=display
            )
    counter = _Counter()
    survey = surveys.load_default_survey()
    async with db.transaction() as session:
        version = SurveyVersion(
            code=survey.code,
            version=survey.version,
            content_hash=survey.content_hash,
            definition=survey.to_dict(),
        )
        session.add(version)
        teams = (await session.scalars(select(Team).order_by(Team.id))).all()
        for team in teams:
            await _team_cases(session, rng, team, anchor, counter, await _staff_of(session, team))
        await session.flush()
        await _surveys(session, rng, version, anchor, counter)
    return {
        "teams": len(TEAMS),
        "users": len(DEMO_USERS),
        "referrals": counter.referrals,
        "answers": counter.answers,
    }


async def _staff_of(session: AsyncSession, team: Team) -> _Staff:
    rows = (await session.execute(select(StaffUser.role, StaffUser.id).where(
        StaffUser.team_id == team.id).order_by(StaffUser.id))).all()  # fmt: skip
    ids = {role: user_id for role, user_id in reversed(rows)}
    return _Staff(ids.get("coordinator"), ids.get("staff", ids.get("coordinator")))


async def _team_cases(
    session: AsyncSession,
    rng: random.Random,
    team: Team,
    anchor: date,
    counter: _Counter,
    staff: _Staff,
) -> None:
    start = anchor - timedelta(days=3 * 365)
    per_month = 4.5 if team.code == "norr" else 3.0
    day = start
    number = 0
    while day < anchor:
        day += timedelta(days=max(1, int(rng.expovariate(per_month / 30.4))))
        if day >= anchor:
            break
        number += 1
        await _one_case(session, rng, team, staff, day, anchor, number)
        counter.referrals += 1
    for received, history in _fresh_cases(anchor):
        number += 1
        await _one_case(session, rng, team, staff, received, anchor, number, history)
        counter.referrals += 1


def _fresh_cases(anchor: date) -> list[tuple[date, list[tuple[str, date, str | None]]]]:
    """A referral that came in yesterday and one waiting for its introductory visit, so that
    the board's first columns are never empty, whatever the random draws.
    """
    booked = anchor - timedelta(days=40)
    waiting: list[tuple[str, date, str | None]] = [
        ("received", booked, None),
        ("assessing", booked + timedelta(days=5), None),
        ("queued", booked + timedelta(days=12), None),
        ("visit_booked", anchor - timedelta(days=3), None),
    ]
    yesterday = anchor - timedelta(days=1)
    fresh: list[tuple[str, date, str | None]] = [("received", yesterday, None)]
    return [(booked, waiting), (yesterday, fresh)]


async def _one_case(
    session: AsyncSession,
    rng: random.Random,
    team: Team,
    staff: _Staff,
    received: date,
    anchor: date,
    number: int,
    history: list[tuple[str, date, str | None]] | None = None,
) -> None:
    gender = rng.choices(("kvinna", "man", "annat"), (55, 43, 2))[0]
    birth = date(
        rng.randint(anchor.year - 62, anchor.year - 18), rng.randint(1, 12), rng.randint(1, 28)
    )
    protected = rng.random() < 0.02
    first = rng.choice(FIRST_NAMES_F if gender == "kvinna" else FIRST_NAMES_M)
    person = Participant(
        team_id=team.id,
        person_ref=f"{team.code.upper()}-{received.year}-{number:03d}",
        protected_identity=protected,
        gender=gender,
        birth_date=None if protected else birth,
        birth_year=birth.year if protected else None,
        name=None if protected else f"{first} {rng.choice(LAST_NAMES)}",
        personnummer=None
        if protected
        else _personnummer(rng, birth, "man" if gender == "man" else "kvinna"),
        phone=None
        if protected
        else f"070-{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}",
        contact_channel=rng.choice(("telefon", "sms", "via_remittent")),
        follow_up_consent=rng.random() < 0.9,
    )
    session.add(person)
    await session.flush()
    referral = Referral(
        reference=f"R{team.id}{received:%y%m%d}{number:03d}",
        team_id=team.id,
        participant_id=person.id,
        received_at=_at(received),
        received_date=received,
        referrer_code=_pick(rng, REFERRERS),
        income_source=_pick(rng, INCOME),
        contacts=rng.sample(["af", "fk", "region", "kommun"], k=rng.randint(1, 3)),
        help_wanted="Vill komma närmare arbete och få stöd med struktur i vardagen.",
        referrer_name="Handläggare (fiktiv)",
        referrer_email="handlaggare@exempel.se",
    )
    session.add(referral)
    await session.flush()
    history = history or _history(rng, received, anchor, team.trial_months)
    previous = None
    for index, (status, day, reason) in enumerate(history):
        following = history[index + 1][1] if index + 1 < len(history) else None
        session.add(
            ReferralEvent(
                referral_id=referral.id,
                from_status=previous,
                to_status=status,
                at=_at(day, 10 if status == "received" else 14),
                user_id=None if status == "received" else staff.coordinator,
                reason=reason,
                referrer_message=DECLINE_MESSAGE if status == "declined" else None,
                note=_event_note(rng, status, day, following, team.trial_months),
            )
        )
        previous = status
        if status == "queued":
            referral.queued_at = _at(day)
        if status == "enrolled":
            referral.start_date, referral.trial_months = day, team.trial_months
        if status == "ended":
            referral.end_date, referral.end_reason = day, reason
            referral.income_source_after = _pick(rng, INCOME)
    referral.status = history[-1][0]
    referral.status_changed_at = _at(history[-1][1], 14)
    _consents(session, rng, person, referral, received)
    if referral.start_date is not None:
        _steps(session, rng, referral, referral.end_date or anchor, staff.coach)


def _event_note(
    rng: random.Random, status: str, day: date, following: date | None, trial: int
) -> str | None:
    """What the team wrote when it moved the referral (fictional), as a coordinator would."""
    if status == "assessing":
        return "Diskuteras på teamträffen på tisdag (fiktivt)."
    if status == "queued":
        return "Antagen på teamträffen, väntar på plats (fiktivt)."
    if status == "visit_booked":
        # The visit itself: a few days after booking, before the enrolment when there is one.
        latest = (following - timedelta(days=1)) if following else day + timedelta(days=10)
        visit = min(day + timedelta(days=rng.randint(3, 8)), max(latest, day))
        return (
            f"Studiebesök bokat {visit.isoformat()} kl. {rng.choice((9, 10, 13, 14))}.00"
            " med deltagaren och handläggaren (fiktivt)."
        )
    if status == "enrolled":
        return f"Inskriven efter studiebesöket, prövotid {trial} månader (fiktivt)."
    if status == "ended":
        return "Avslutssamtal med deltagaren och handläggaren (fiktivt)."
    if status == "withdrawn":
        return WITHDRAWAL_NOTE
    return None


def _steps(
    session: AsyncSession, rng: random.Random, referral: Referral, until: date, coach: int | None
) -> None:
    """Steps on the way to work (stegförflyttning) every two to four months, mostly forward."""
    assert referral.start_date is not None
    codes = list(PROGRESS_STEPS)
    day, level = referral.start_date + timedelta(days=rng.randint(5, 20)), 0
    while day < until:
        code = codes[level]
        session.add(
            ProgressStep(
                referral_id=referral.id,
                recorded_on=day,
                step=code,
                note=rng.choice(STEP_NOTES[code]),
                user_id=coach,
            )
        )
        level = min(len(codes) - 1, max(0, level + rng.choices((1, 2, 0, -1), (50, 15, 25, 10))[0]))
        day += timedelta(days=rng.randint(60, 120))


def _history(
    rng: random.Random, received: date, anchor: date, trial: int
) -> list[tuple[str, date, str | None]]:
    steps: list[tuple[str, date, str | None]] = [("received", received, None)]
    day = received + timedelta(days=rng.randint(3, 10))
    if day >= anchor:
        return steps
    steps.append(("assessing", day, None))
    roll = rng.random()
    if roll < 0.08:
        return (
            steps + [("declined", day + timedelta(days=7), None)]
            if day + timedelta(days=7) < anchor
            else steps
        )
    if roll < 0.12:
        return (
            steps + [("withdrawn", day + timedelta(days=5), None)]
            if day + timedelta(days=5) < anchor
            else steps
        )
    day += timedelta(days=rng.randint(5, 10))
    if day >= anchor:
        return steps
    steps.append(("queued", day, None))
    start = day + timedelta(days=rng.randint(20, 110))
    visit = start - timedelta(days=rng.randint(7, 14))
    if visit >= anchor:
        return steps
    steps.append(("visit_booked", visit, None))
    if start >= anchor:
        return steps
    steps.append(("enrolled", start, None))
    years_in = (start - (anchor - timedelta(days=3 * 365))).days / 365
    months = rng.gauss(13 + 2.5 * years_in, 4)
    if rng.random() < 0.12:
        months = rng.uniform(0.5, trial - 0.2)  # leaves during the trial period
    end = start + timedelta(days=max(10, int(months * 30.4375)))
    if end < anchor:
        steps.append(("ended", end, _pick(rng, END_REASONS)))
    return steps


def _consents(
    session: AsyncSession,
    rng: random.Random,
    person: Participant,
    referral: Referral,
    received: date,
) -> None:
    method = rng.choices(("digital", "paper", "verbal"), (50, 40, 10))[0]
    kinds = [("information_sharing", party) for party in referral.contacts]
    if person.follow_up_consent:
        kinds.append(("follow_up", None))
    for kind, party in kinds:
        text = current_text(kind, "sv")
        session.add(
            Consent(
                participant_id=person.id,
                referral_id=referral.id,
                kind=kind,
                party=party,
                information_kinds=["arbetsformaga", "insatser"] if party else [],
                purpose=kind,
                text_version=str(text.version),
                text_hash=text.sha256,
                language="sv",
                method=method,
                recorded_by=f"remittent:{referral.referrer_code}",
                given_at=_at(received, 9),
            )
        )


async def _surveys(
    session: AsyncSession,
    rng: random.Random,
    version: SurveyVersion,
    anchor: date,
    counter: _Counter,
) -> None:
    codebook = themes.default_codebook()
    # A deck per team and half-year: the answers a team's report reads for a period differ.
    useful: dict[tuple[int, int], _Deck] = {}
    better: dict[tuple[int, int], _Deck] = {}
    rows = (
        await session.execute(
            select(
                Referral.team_id, Referral.participant_id, Referral.start_date, Referral.end_date
            ).where(Referral.start_date.is_not(None))
        )
    ).all()
    for team_id, participant_id, start, end in rows:
        assert start is not None  # (the query keeps enrolled referrals only)
        for half in range(1, 7):
            sent = anchor - timedelta(days=half * 182)
            if not (start + timedelta(days=60) <= sent and (end is None or sent <= end)):
                continue
            token = hashlib.sha256(f"demo-{participant_id}-{half}".encode()).hexdigest()
            invitation = Invitation(
                participant_id=participant_id,
                team_id=team_id,
                token_hash=token,
                channel=rng.choice(("telegram", "web")),
                created_at=_at(sent),
                expires_at=_at(sent + timedelta(days=30)),
                claimed_at=None,
            )
            session.add(invitation)
            await session.flush()
            if rng.random() < 0.62:
                key = (team_id, half)
                useful.setdefault(key, _Deck(rng, USEFUL_ANSWERS))
                better.setdefault(key, _Deck(rng, BETTER_ANSWERS))
                texts = (useful[key].deal(), better[key].deal() if rng.random() < 0.75 else "")
                counter.answers += await _response(
                    session, rng, invitation, version, sent, codebook, texts
                )


async def _response(session, rng, invitation, version, sent: date, codebook, texts) -> int:  # type: ignore[no-untyped-def]
    done = sent + timedelta(days=rng.randint(0, 6))
    invitation.claimed_at = _at(done, 18)
    quote = rng.random() < 0.7
    response = Response(
        invitation_id=invitation.id,
        participant_id=invitation.participant_id,
        team_id=invitation.team_id,
        survey_version_id=version.id,
        language="sv",
        channel=invitation.channel,
        started_at=_at(done, 18),
        updated_at=_at(done, 19),
        completed_at=_at(done, 19),
        quote_allowed=quote,
    )
    session.add(response)
    await session.flush()
    useful, better = texts
    closer = rng.choices(surveys.CLOSER_OPTIONS, (22, 38, 25, 5, 10))[0]
    health = rng.choices(surveys.HEALTH_OPTIONS, (8, 30, 40, 17, 5))[0]
    values = {
        surveys.Q_ACTIVITIES: sorted(
            rng.sample(ACTIVITIES, k=rng.randint(1, 3)), key=ACTIVITIES.index
        ),
        surveys.Q_CLOSER: closer,
        surveys.Q_HEALTH: health,
        surveys.Q_QUOTE: quote,
    }
    for qid, value in values.items():
        session.add(
            Answer(response_id=response.id, question_id=qid, value=value, answered_at=_at(done, 19))
        )
    useful_answer = Answer(
        response_id=response.id,
        question_id=surveys.Q_USEFUL,
        text=useful,
        answered_at=_at(done, 19),
    )
    session.add(useful_answer)
    if better:
        session.add(
            Answer(
                response_id=response.id,
                question_id=surveys.Q_BETTER,
                text=better,
                answered_at=_at(done, 19),
            )
        )
    else:
        session.add(
            Answer(
                response_id=response.id,
                question_id=surveys.Q_BETTER,
                skipped=True,
                answered_at=_at(done, 19),
            )
        )
    await session.flush()
    for theme in themes.code_text(useful, codebook):
        session.add(AnswerTheme(answer_id=useful_answer.id, theme=theme, source="auto"))
    return 6
