"""Teams (insatser) and their settings: create, list, edit; every change audited old → new.

Admins manage every team of the förbund; a coordinator edits their own team's settings but
cannot create teams. Settings: name, trial period (prövotid, 2 or 3 months), the end reasons
that count as a result, goals measured on the summary (:mod:`reports.goals`), the survey file,
who hears of new referrals, whether the referral form takes referrals for the team, the
number of places a year (årsplatser), and the phone and e-mail participants reach the team on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from core.access import Staff
from core.codes import END_REASONS, MISTAKE_REASON
from core.errors import DomainError, FormErrors, NotAllowed, NotFound, field_error
from core.i18n import N_
from reports.goals import OPERATORS
from storage import audit
from storage.db import Database
from storage.models import Team
from storage.surveys import survey_files

CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
TRIAL_MONTHS = (2, 3)
#: End reasons a team may count as a result (every reason but a registration mistake).
RESULT_REASON_CHOICES = tuple(c for c in END_REASONS if c != MISTAKE_REASON)
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
#: A phone number as people write it: digits, spaces, dashes, brackets, a leading +.
_PHONE = re.compile(r"\+?[0-9][0-9 ()-]{4,30}")


@dataclass
class TeamSettings:
    """What the team form edits (already parsed into values)."""

    name: str
    trial_months: int = 3
    result_reasons: list[str] = field(default_factory=lambda: ["arbete", "studier", "annan_rehab"])
    goals: list[dict[str, Any]] = field(default_factory=list)
    survey_file: str | None = None
    notify_emails: list[str] = field(default_factory=list)
    accepts_referrals: bool = True
    places: int | None = None
    #: How participants reach the team: shown on the survey's thanks and broken-link pages.
    contact_phone: str | None = None
    contact_email: str | None = None


FIELDS = tuple(TeamSettings.__dataclass_fields__)


def survey_choices(surveys_dir: Path | None) -> list[str]:
    """The survey files a team can choose (the default survey when none is chosen).

    The built-in surveys and those in ``surveys_dir``, the förbund's own survey folder.
    """
    return survey_files(surveys_dir)


def _admin_only(staff: Staff | None) -> None:
    if staff is not None and not staff.has_role("admin"):
        raise NotAllowed(N_("Bara en administratör kan skapa team."))


def _check(settings: TeamSettings, surveys_dir: Path | None) -> None:
    errors: dict[str, DomainError] = {}
    if not settings.name.strip():
        errors["name"] = DomainError(N_("Ange teamets namn."), field="name")
    if settings.trial_months not in TRIAL_MONTHS:
        errors["trial_months"] = DomainError(
            N_("Prövotiden är 2 eller 3 månader."), field="trial_months"
        )
    if any(r not in RESULT_REASON_CHOICES for r in settings.result_reasons):
        errors["result_reasons"] = DomainError(N_("Okänd avslutsorsak."), field="result_reasons")
    if settings.survey_file is not None and settings.survey_file not in survey_files(surveys_dir):
        errors["survey_file"] = DomainError(N_("Välj en enkät i listan."), field="survey_file")
    if any(not _EMAIL.fullmatch(e) for e in settings.notify_emails):
        errors["notify_emails"] = DomainError(
            N_("Ange e-postadresser, en per rad."), field="notify_emails"
        )
    if settings.contact_phone is not None and not _PHONE.fullmatch(settings.contact_phone):
        errors["contact_phone"] = DomainError(
            N_("Ange teamets telefonnummer med siffror, till exempel 010-123 45 67."),
            field="contact_phone",
        )
    if settings.contact_email is not None and not _EMAIL.fullmatch(settings.contact_email):
        errors["contact_email"] = DomainError(
            N_("Ange teamets e-postadress, till exempel team@kommun.se."), field="contact_email"
        )
    if settings.places is not None and not 0 <= settings.places <= 10000:
        errors["places"] = DomainError(N_("Ange antalet platser som ett heltal."), field="places")
    for goal in settings.goals:
        if goal.get("op") not in OPERATORS or not str(goal.get("metric", "")).strip():
            errors["goals"] = DomainError(N_("Ett mål har fel form."), field="goals")
    if errors:
        raise FormErrors(errors)


async def create_team(
    db: Database,
    staff: Staff | None,
    code: str,
    *,
    name: str,
    trial_months: int = 3,
    forbund: str = "",
) -> Team:
    """A new team with default settings (admins, or the command line)."""
    _admin_only(staff)
    if not CODE.fullmatch(code):
        raise field_error(
            "code", N_("Teamkoden får bara ha små bokstäver a–z, siffror och bindestreck.")
        )
    _check(TeamSettings(name=name, trial_months=trial_months), None)
    async with db.transaction() as session:
        if await session.scalar(select(Team.id).where(Team.code == code)) is not None:
            raise field_error("code", N_("Det finns redan ett team med koden {code}."), code=code)
        if not forbund:
            forbund = await session.scalar(select(Team.forbund).order_by(Team.id).limit(1)) or ""
        team = Team(code=code, name=name.strip(), trial_months=trial_months, forbund=forbund)
        session.add(team)
        await session.flush()
        await audit.record(
            session,
            "team.created",
            actor=staff.actor if staff else "system",
            user_id=staff.user_id if staff else None,
            object_type="team",
            object_id=team.id,
            team_id=team.id,
            detail={"code": code, "trial_months": trial_months},
        )
    return team


async def list_teams(db: Database, staff: Staff) -> list[Team]:
    """The teams ``staff`` may manage (coordinators: their own)."""
    if not staff.has_role("coordinator"):
        raise NotAllowed(N_("Du får inte hantera team."))
    async with db.sessions() as session:
        teams = (await session.scalars(select(Team).order_by(Team.name))).all()
    return [t for t in teams if staff.sees(t.id)]


async def get_team(db: Database, staff: Staff, team_id: int) -> Team:
    if not staff.has_role("coordinator") or not staff.sees(team_id):
        raise NotFound(N_("Teamet finns inte."))
    async with db.sessions() as session:
        team = await session.get(Team, team_id)
    if team is None:
        raise NotFound(N_("Teamet finns inte."))
    return team


async def update_team(
    db: Database,
    staff: Staff,
    team_id: int,
    settings: TeamSettings,
    *,
    surveys_dir: Path | None = None,
) -> dict[str, Any]:
    """Save the team's settings; the audit entry holds each changed field's old and new value.

    ``surveys_dir``: the förbund's own survey folder, whose files a team may choose.
    """
    if not staff.has_role("coordinator") or not staff.sees(team_id):
        raise NotFound(N_("Teamet finns inte."))
    _check(settings, surveys_dir)
    async with db.transaction() as session:
        team = await session.get(Team, team_id, with_for_update=True)
        if team is None:
            raise NotFound(N_("Teamet finns inte."))
        changes: dict[str, Any] = {}
        for name in FIELDS:
            old, new = getattr(team, name), getattr(settings, name)
            if name == "name":
                new = new.strip()
            if old != new:
                changes[name] = {"old": old, "new": new}
                setattr(team, name, new)
        if changes:
            await audit.record(
                session,
                "team.updated",
                actor=staff.actor,
                user_id=staff.user_id,
                object_type="team",
                object_id=team.id,
                team_id=team.id,
                detail=_without_addresses(changes),
            )
    return changes


def _without_addresses(changes: dict[str, Any]) -> dict[str, Any]:
    """Addresses are contact details: the audit log says how many, not which."""
    if "notify_emails" in changes:
        old, new = changes["notify_emails"]["old"], changes["notify_emails"]["new"]
        changes = {**changes, "notify_emails": {"old": len(old), "new": len(new)}}
    for name in ("contact_phone", "contact_email"):  # whether one is given, not which
        if name in changes:
            old, new = changes[name]["old"], changes[name]["new"]
            changes = {**changes, name: {"old": bool(old), "new": bool(new)}}
    return changes


def parse_goals(text: str) -> list[dict[str, Any]]:
    """Goals written one a line, ``METRIC OP TARGET | text``, e.g.
    ``survey.closer_to_work.share >= 50% | minst 50 % närmare arbete``."""
    goals = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        rule, _, label = line.partition("|")
        match = re.fullmatch(
            r"\s*([a-z_.]+)\s*(>=|<=|==|>|<)\s*([0-9]+(?:[.,][0-9]+)?)\s*(%?)\s*", rule
        )
        if match is None:
            raise field_error("goals", N_("Rad {line} av målen har fel form."), line=number)
        metric, op, figure, percent = match.groups()
        target = float(figure.replace(",", "."))
        goals.append(
            {
                "text": label.strip(),
                "metric": metric,
                "op": op,
                "target": target / 100 if percent else target,
            }
        )
    return goals


def format_goals(goals: list[dict[str, Any]]) -> str:
    """The goals as :func:`parse_goals` reads them."""
    lines = []
    for goal in goals:
        target = goal.get("target", 0)
        shown = (
            f"{round(target * 100, 2):g}%"
            if isinstance(target, float) and target <= 1
            else f"{target:g}"
        )
        text = f" | {goal['text']}" if goal.get("text") else ""
        lines.append(f"{goal.get('metric', '')} {goal.get('op', '>=')} {shown}{text}")
    return "\n".join(lines)
