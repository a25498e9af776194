"""Retention: a person's personal data is removed once their last referral closed long ago.

A referral is *closed* when it has ended (on its end date) or was declined or withdrawn (on the
day its status changed). When every referral of a participant closed more than the retention
period ago (``SAMVERKAN_RETENTION_YEARS``, default 5), :func:`purge_expired` anonymises the
person, in batches of short transactions:

- removed: name, personnummer and its keyed hash, phone, language, contact channel, the
  referrer's name, e-mail and phone, the referral's free text (help wanted, practical needs,
  contacts), notes on events and steps, the text sent to the referrer, free-text survey
  answers, and the Telegram chat id of invitations;
- replaced: ``person_ref`` (the team's own id for the person) by ``raderad-<id>``, and the
  birth date by the birth year alone (summaries then count age from 1 July of that year, as
  DOMAIN.md defines for a known birth year only);
- kept, for statistics: team, gender, birth year, referrer and income codes, every date and
  status, end reasons, consent records (kind, party, method, dates), survey choices and themes.

Each batch writes one audit entry per team with counts only (no ids of people), in the same
transaction as the purge. A participant's other referrals keep the person's data until the
last one has been closed for the whole period.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from sqlalchemy import (
    ColumnElement,
    Select,
    Update,
    and_,
    delete,
    exists,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import utcnow
from storage import audit
from storage.db import Database
from storage.models import (
    Answer,
    Invitation,
    OutboxMessage,
    Participant,
    ProgressStep,
    Referral,
    ReferralEvent,
    Response,
    Team,
)

DEFAULT_BATCH_SIZE = 100
SIDE_EXITS = ("declined", "withdrawn")


@dataclass(frozen=True)
class ExpiredPerson:
    """A participant whose data is past retention: ids and codes only, no personal data."""

    participant_id: int
    team_id: int
    team_code: str
    references: tuple[str, ...]
    closed_on: date | None


@dataclass
class PurgeReport:
    """Who was (or, in a dry run, would be) purged, and counts per kind of record."""

    cutoff: date
    people: list[ExpiredPerson] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def retention_cutoff(today: date, years: int) -> date:
    """The day ``years`` before ``today``; data closed before it is past retention."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February in a year that has none
        return today.replace(year=today.year - years, day=28)


def _closed_before(cutoff: date) -> ColumnElement[bool]:
    """The referral closed before ``cutoff``: ended then, or declined or withdrawn then."""
    cutoff_at = datetime.combine(cutoff, time(0), tzinfo=UTC)
    return or_(
        and_(Referral.status == "ended", Referral.end_date < cutoff),
        and_(Referral.status.in_(SIDE_EXITS), Referral.status_changed_at < cutoff_at),
    )


def _expired(cutoff: date) -> ColumnElement[bool]:
    """The participant is not yet purged and every referral of theirs closed before cutoff."""
    any_referral = exists().where(Referral.participant_id == Participant.id)
    still_kept = exists().where(
        Referral.participant_id == Participant.id, not_(_closed_before(cutoff))
    )
    cutoff_at = datetime.combine(cutoff, time(0), tzinfo=UTC)
    return and_(
        Participant.purged_at.is_(None),
        not_(still_kept),
        or_(any_referral, Participant.created_at < cutoff_at),
    )


async def find_expired(db: Database, *, today: date, retention_years: int) -> PurgeReport:
    """What a purge would remove today (a dry run); nothing is changed."""
    report = PurgeReport(retention_cutoff(today, retention_years))
    async with db.sessions() as session:
        report.people = await _expired_people(session, report.cutoff)
    report.counts["participants"] = len(report.people)
    report.counts["referrals"] = sum(len(p.references) for p in report.people)
    return report


async def purge_expired(
    db: Database,
    *,
    today: date,
    retention_years: int,
    actor: str = "system",
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> PurgeReport:
    """Anonymise every participant past retention; audited per batch with counts only."""
    report = PurgeReport(retention_cutoff(today, retention_years))
    while True:
        async with db.transaction() as session:
            batch = await _expired_people(session, report.cutoff, limit=batch_size)
            for people in _by_team(batch):
                counts = await _purge(session, [p.participant_id for p in people])
                await audit.record(
                    session,
                    "retention.purged",
                    actor=actor,
                    object_type="team",
                    team_id=people[0].team_id,
                    object_id=people[0].team_id,
                    detail={
                        **counts,
                        "cutoff": report.cutoff.isoformat(),
                        "retention_years": retention_years,
                    },
                )
                report.counts.update(counts)
        if not batch:
            return report
        report.people.extend(batch)


def _by_team(people: Sequence[ExpiredPerson]) -> list[list[ExpiredPerson]]:
    """The people grouped by team."""
    groups: dict[int, list[ExpiredPerson]] = {}
    for person in people:
        groups.setdefault(person.team_id, []).append(person)
    return list(groups.values())


async def _expired_people(
    session: AsyncSession, cutoff: date, *, limit: int | None = None
) -> list[ExpiredPerson]:
    """Participants past retention, oldest id first, with their references and closing day."""
    ids = select(Participant.id).where(_expired(cutoff)).order_by(Participant.id).limit(limit)
    rows = await session.execute(
        select(
            Participant.id,
            Team.id,
            Team.code,
            Referral.reference,
            Referral.end_date,
            Referral.status_changed_at,
        )
        .join(Team, Team.id == Participant.team_id)
        .outerjoin(Referral, Referral.participant_id == Participant.id)
        .where(Participant.id.in_(ids.scalar_subquery()))
        .order_by(Participant.id, Referral.id)
    )
    people: dict[int, ExpiredPerson] = {}
    for pid, team_id, team_code, reference, end_date, changed_at in rows.all():
        known = people.get(pid) or ExpiredPerson(pid, team_id, team_code, (), None)
        if reference is None:  # a participant without any referral
            people[pid] = known
            continue
        closed = end_date or changed_at.date()
        latest = max(closed, known.closed_on) if known.closed_on else closed
        people[pid] = ExpiredPerson(pid, team_id, team_code, (*known.references, reference), latest)
    return list(people.values())


async def _purge(session: AsyncSession, participant_ids: Sequence[int]) -> Counter[str]:
    """Remove the personal data of these participants; counts of what was changed."""
    referral_ids = select(Referral.id).where(Referral.participant_id.in_(participant_ids))
    response_ids = select(Response.id).where(Response.participant_id.in_(participant_ids))
    counts: Counter[str] = Counter()
    for name, statement in _purge_statements(participant_ids, referral_ids, response_ids):
        result = await session.execute(statement.execution_options(synchronize_session=False))
        counts[name] += result.rowcount  # type: ignore[attr-defined]
    mail = delete(OutboxMessage).where(
        ((OutboxMessage.object_type == "referral") & OutboxMessage.object_id.in_(referral_ids))
        | (  # survey invitations sent by SMS or e-mail
            (OutboxMessage.object_type == "participant")
            & OutboxMessage.object_id.in_(participant_ids)
        )
    )
    counts["mail"] = (await session.execute(mail)).rowcount  # type: ignore[attr-defined]
    counts["participants"] = len(participant_ids)
    await _anonymise_people(session, participant_ids)
    return counts


def _purge_statements(
    participant_ids: Sequence[int],
    referral_ids: Select[int],
    response_ids: Select[int],
) -> list[tuple[str, Update]]:
    """(count name, UPDATE) pairs that null or replace every personal field."""
    return [
        ("referrals", update(Referral).where(Referral.participant_id.in_(participant_ids))
         .values(referrer_name=None, referrer_email=None, referrer_phone=None, help_wanted=None,
                 practical_needs=None, contacts=[], submission_key=None)),
        ("notes", update(ReferralEvent).where(ReferralEvent.referral_id.in_(referral_ids))
         .where(or_(ReferralEvent.note.is_not(None), ReferralEvent.referrer_message.is_not(None)))
         .values(note=None, referrer_message=None)),
        ("notes", update(ProgressStep).where(ProgressStep.referral_id.in_(referral_ids))
         .where(ProgressStep.note.is_not(None)).values(note=None)),
        ("answers", update(Answer).where(Answer.response_id.in_(response_ids))
         .where(or_(Answer.text.is_not(None), Answer.gloss_sv.is_not(None)))
         .values(text=None, gloss_sv=None)),
        ("invitations", update(Invitation).where(Invitation.participant_id.in_(participant_ids))
         .where(Invitation.telegram_chat_id.is_not(None)).values(telegram_chat_id=None)),
    ]  # fmt: skip


async def _anonymise_people(session: AsyncSession, participant_ids: Sequence[int]) -> None:
    """Anonymise the participants themselves: identity gone, birth date reduced to a year."""
    people = await session.scalars(select(Participant).where(Participant.id.in_(participant_ids)))
    now = utcnow()
    for person in people:
        person.birth_year = person.birth_year or (
            person.birth_date.year if person.birth_date else None
        )
        person.birth_date = None
        person.name = person.personnummer = person.personnummer_hash = None
        person.phone = person.email = person.language = person.contact_channel = None
        person.interpreter = False
        person.person_ref = f"raderad-{person.id}"
        person.purged_at = now
    await session.flush()
