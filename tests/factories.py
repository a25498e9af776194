"""Factories for test data, in one place (teams, staff users)."""

from __future__ import annotations

import itertools
from typing import Any

from storage import users
from storage.db import Database
from storage.models import StaffUser, Team

PASSWORD = "correct horse battery staple"


async def make_team(
    db: Database, code: str = "norr", name: str = "Samverkansteam Norr", **fields: object
) -> Team:
    async with db.transaction() as session:
        team = Team(code=code, name=name, forbund="Samordningsförbundet Exempel", **fields)
        session.add(team)
    return team


#: Admins log in with a second factor: the factory enrols them with this TOTP secret and
#: recovery codes ``test-0000`` … (each works once; :func:`next_recovery_code` hands them out).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_recovery = itertools.count()


def next_recovery_code() -> str:
    return f"test-{next(_recovery) % 500:04}"


async def make_user(
    db: Database,
    email: str = "coach@example.se",
    *,
    role: str = "staff",
    team: str | None = "norr",
    password: str = PASSWORD,
    two_factor: bool | None = None,
) -> StaffUser:
    """A staff account; admins (or ``two_factor=True``) come with TOTP enrolled."""
    from core.clock import utcnow
    from services.two_factor import hash_recovery_code

    async with db.transaction() as session:
        user = await users.create_user(session, email, password, role=role, team_code=team)
        if two_factor if two_factor is not None else role == "admin":
            user.totp_secret = TOTP_SECRET
            user.totp_enabled_at = utcnow()
            user.recovery_codes = [hash_recovery_code(f"test-{n:04}") for n in range(500)]
        return user


async def pass_second_factor(client, response) -> Any:  # type: ignore[no-untyped-def]
    """After a login answer, enter a recovery code when the code page is asked for.

    ``client`` is an aiohttp test client or ClientSession; ``response`` the login's answer
    (redirects followed or not). Returns the final answer.
    """
    import re

    location = response.headers.get("Location", "") if response.status == 303 else str(response.url)
    if not location.endswith("/team/login/kod"):
        return response
    base = "" if hasattr(client, "server") else str(response.url).split("/team/")[0]
    page = await (await client.get(base + "/team/login/kod")).text()
    token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return await client.post(
        base + "/team/login/kod", data={"_csrf": token, "code": next_recovery_code()},
        allow_redirects=response.status != 303,
    )  # fmt: skip


# --- Referrals (issue 3: referral intake and the board) -------------------------------------

VALID_PERSONNUMMER = "19850312-1231"


def referral_form(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    """A referral form as a case worker fills it in, valid for team ``norr``; override fields."""
    form: dict[str, str | list[str]] = {
        "team": "norr",
        "referrer_org": "af",
        "referrer_name": "Lena Handläggare",
        "referrer_email": "lena.handlaggare@arbetsformedlingen.se",
        "referrer_phone": "010-486 00 00",
        "person_name": "Sara Exempel",
        "personnummer": VALID_PERSONNUMMER,
        "person_phone": "070-123 45 67",
        "contact_channel": "telefon",
        "language": "svenska",
        "interpreter": "nej",
        "income_source": "forsorjningsstod",
        "contacts": ["af", "kommun"],
        "help_wanted": "Vill komma närmare arbete och få stöd med struktur i vardagen.",
        "practical_needs": "",
        "consent_sharing_parties": ["af", "kommun"],
        "consent_sharing_info": ["arbetsformaga", "insatser"],
        "consent_follow_up": "ja",
        "consent_method": "paper",
        "consent_confirmed": "ja",
    }
    form.update(overrides)
    return form


async def make_referral(db: Database, *, key: str | None = None, **overrides: str | list[str]):  # type: ignore[no-untyped-def]
    """Submit a referral through the use case; returns its Submission."""
    import secrets
    from datetime import date

    from core.referral_form import parse_referral_form
    from services.referrals import submit_referral

    draft = parse_referral_form(
        referral_form(**overrides), team_codes=("norr", "syd"), today=date(2026, 11, 22)
    )
    return await submit_referral(
        db,
        draft,
        submission_key=key or secrets.token_urlsafe(24),
        language="sv",
        consent_language="sv",
        public_url="http://127.0.0.1:8080",
    )


async def queued_mail(db: Database) -> list[Any]:
    """Every message in the e-mail outbox, oldest first (recipients and body decrypted)."""
    import json
    from types import SimpleNamespace

    from sqlalchemy import select

    from storage.models import OutboxMessage

    async with db.sessions() as session:
        rows = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    return [
        SimpleNamespace(kind=r.kind, recipients=tuple(json.loads(r.recipients)), subject=r.subject,
                        body=r.body, object_id=r.object_id, attempts=r.attempts,
                        sent_at=r.sent_at, failed_at=r.failed_at)
        for r in rows
    ]  # fmt: skip


# --- Surveys (issue 4: invitations, the bot and the web survey) -----------------------------

from datetime import date as _date  # noqa: E402

from sqlalchemy import select as _select  # noqa: E402

from storage.models import Participant, Referral  # noqa: E402


async def make_enrolled_participant(
    db: Database, person_ref: str = "N-001", *, team: str = "norr", ended: bool = False
) -> Participant:
    """A participant of ``team`` with an enrolment (ended when ``ended``), for survey tests."""
    async with db.transaction() as session:
        team_id = await session.scalar(_select(Team.id).where(Team.code == team))
        participant = Participant(team_id=team_id, person_ref=person_ref, gender="kvinna")
        session.add(participant)
        await session.flush()
        session.add(Referral(
            reference=f"R-{team}-{person_ref}", team_id=team_id, participant_id=participant.id,
            status="ended" if ended else "enrolled", received_date=_date(2026, 1, 5),
            referrer_code="af", start_date=_date(2026, 2, 1),
            end_date=_date(2026, 9, 1) if ended else None, end_reason="arbete" if ended else None,
        ))  # fmt: skip
    return participant


# --- Security and privacy (issue 6: encryption at rest, rotation, retention, access export) --

from dataclasses import dataclass as _dataclass  # noqa: E402
from datetime import UTC as _UTC  # noqa: E402
from datetime import datetime as _datetime  # noqa: E402
from datetime import time as _time  # noqa: E402
from datetime import timedelta as _timedelta  # noqa: E402

from core.clock import utcnow as _utcnow  # noqa: E402
from storage.crypto import keyring as _keyring  # noqa: E402
from storage.models import (  # noqa: E402
    Answer,
    AnswerTheme,
    Consent,
    Invitation,
    ProgressStep,
    ReferralEvent,
    Response,
    SurveyVersion,
)
from storage.outbox import Mail as _Mail  # noqa: E402
from storage.outbox import add as _outbox_add  # noqa: E402


@_dataclass(frozen=True)
class PersonSecrets:
    """The personal data written by :func:`make_person_with_history`, to look for later."""

    participant_id: int
    referral_id: int
    name: str
    personnummer: str
    phone: str
    referrer_name: str
    referrer_email: str
    referrer_phone: str
    help_wanted: str
    note: str
    answer: str

    def clear_texts(self) -> dict[str, str]:
        """Every value that must never be stored in clear, by what it is."""
        return {k: v for k, v in self.__dict__.items() if isinstance(v, str)}


async def make_person_with_history(
    db: Database, n: int = 1, *, team: str = "norr", status: str = "ended",
    received_on: _date = _date(2018, 1, 10), ended_on: _date | None = _date(2019, 6, 30),
) -> PersonSecrets:  # fmt: skip
    """A person with every kind of personal data: identity, referrer, notes, consent, answers."""
    s = PersonSecrets(
        0, 0, f"Karin Fjällström{n}", f"19850312{n:04d}", f"070-555 {n:04d}",
        f"Lena Handläggare{n}", f"lena{n}@arbetsformedlingen.se", f"010-486 {n:04d}",
        f"Behöver stöd med vardagsstruktur nummer{n}", f"Samtal om sömnproblem nummer{n}",
        f"Gruppen gav mig modet tillbaka nummer{n}",
    )  # fmt: skip
    ended = status == "ended"
    async with db.transaction() as session:
        team_id = await session.scalar(_select(Team.id).where(Team.code == team))
        participant = Participant(
            team_id=team_id, person_ref=f"P-{n}", name=s.name, personnummer=s.personnummer,
            personnummer_hash=_keyring().blind_index(s.personnummer), phone=s.phone,
            contact_channel="telefon", language="arabiska", gender="kvinna",
            birth_date=_date(1985, 3, 12), birth_year=1985, follow_up_consent=True,
        )  # fmt: skip
        session.add(participant)
        await session.flush()
        changed_on = ended_on if ended and ended_on else received_on  # side exits: at once
        closed_at = _datetime.combine(changed_on, _time(12), tzinfo=_UTC)
        referral = Referral(
            reference=f"R-SEC{n:03d}", team_id=team_id, participant_id=participant.id,
            status=status, received_date=received_on, status_changed_at=closed_at,
            referrer_code="af", referrer_name=s.referrer_name, referrer_email=s.referrer_email,
            referrer_phone=s.referrer_phone, help_wanted=s.help_wanted,
            practical_needs="Rullstolsburen", contacts=["af"],
            start_date=received_on + _timedelta(days=30) if ended else None, trial_months=3,
            end_date=ended_on if ended else None, end_reason="arbete" if ended else None,
        )  # fmt: skip
        session.add(referral)
        await session.flush()
        session.add_all([
            ReferralEvent(referral_id=referral.id, to_status="received", note=s.note),
            ReferralEvent(referral_id=referral.id, from_status="received", to_status=status,
                          note=s.note, referrer_message=s.note),
            ProgressStep(referral_id=referral.id, recorded_on=received_on, step="aktivitet",
                         note=s.note),
            Consent(participant_id=participant.id, referral_id=referral.id, kind="follow_up",
                    text_version="1", text_hash="0" * 64, language="sv", method="paper",
                    recorded_by="remittent:af"),
        ])  # fmt: skip
        version = SurveyVersion(code="standard", version="1", content_hash=f"{n:064d}",
                                definition={"questions": []})  # fmt: skip
        invitation = Invitation(
            participant_id=participant.id, team_id=team_id, token_hash=f"{n:064x}",
            channel="telegram", expires_at=_utcnow(), telegram_chat_id=900000 + n,
        )  # fmt: skip
        session.add_all([version, invitation])
        await session.flush()
        response = Response(
            invitation_id=invitation.id, participant_id=participant.id, team_id=team_id,
            survey_version_id=version.id, channel="telegram", completed_at=_utcnow(),
            quote_allowed=True,
        )  # fmt: skip
        session.add(response)
        await session.flush()
        answer = Answer(response_id=response.id, question_id="nytta", text=s.answer,
                        gloss_sv=f"På svenska: {s.answer}")  # fmt: skip
        session.add_all([answer, Answer(response_id=response.id, question_id="halsa", value="bra")])
        await session.flush()
        session.add(AnswerTheme(answer_id=answer.id, theme="grupp"))
        await _outbox_add(
            session, "referral.declined",
            _Mail((s.referrer_email,), f"Remiss R-SEC{n:03d}", f"Hej {s.referrer_name}"),
            now=_utcnow(), object_type="referral", object_id=referral.id, team_id=team_id,
        )  # fmt: skip
        # A staff account with a TOTP secret, so every encrypted column holds a value.
        session.add(StaffUser(email=f"totp-{n}@example.se", password_hash="!", role="staff",
                              team_id=team_id, totp_secret=f"JBSWY3DPEHPK3PXP{n:016d}"))  # fmt: skip
    return PersonSecrets(participant.id, referral.id, *list(s.__dict__.values())[2:])


# --- Reports (issue 5: figures for a period, import, summaries) -----------------------------

import secrets as _secrets  # noqa: E402
from collections.abc import Mapping as _Mapping  # noqa: E402
from collections.abc import Sequence as _Sequence  # noqa: E402


async def make_survey_response(
    db: Database, participant_id: int, *, completed: _datetime | None,
    invited: _datetime | None = None, choices: _Mapping[str, object] | None = None,
    useful: str | None = None, auto_themes: _Sequence[str] = (),
    staff_themes: _Sequence[str] | None = None, quote_allowed: bool | None = None,
) -> int:  # fmt: skip
    """An invitation and a response of the participant (completed when ``completed``).

    ``choices`` are stored choice answers by question id, ``useful`` the text of ``nytta``
    with its automatic themes; ``staff_themes`` (possibly empty) is a staff correction of them.
    Returns the id of the ``nytta`` answer (0 when there is none).
    """
    async with db.transaction() as session:
        team_id = await session.scalar(
            _select(Participant.team_id).where(Participant.id == participant_id)
        )
        version = SurveyVersion(code="default", version="1", content_hash=_secrets.token_hex(32),
                                definition={"questions": []})  # fmt: skip
        invitation = Invitation(
            participant_id=participant_id, team_id=team_id, token_hash=_secrets.token_hex(32),
            channel="web", created_at=invited or completed or _utcnow(),
            expires_at=(invited or completed or _utcnow()) + _timedelta(days=30),
        )  # fmt: skip
        session.add_all([version, invitation])
        await session.flush()
        response = Response(
            invitation_id=invitation.id, participant_id=participant_id, team_id=team_id,
            survey_version_id=version.id, channel="web", completed_at=completed,
            quote_allowed=quote_allowed,
        )  # fmt: skip
        session.add(response)
        await session.flush()
        for question, value in (choices or {}).items():
            session.add(Answer(response_id=response.id, question_id=question, value=value))
        if useful is None:
            return 0
        answer = Answer(response_id=response.id, question_id="nytta", text=useful)
        session.add(answer)
        await session.flush()
        session.add_all(
            AnswerTheme(answer_id=answer.id, theme=t, source="auto") for t in auto_themes
        )
        if staff_themes is not None:
            answer.themes_corrected_at = _utcnow()
            session.add_all(
                AnswerTheme(answer_id=answer.id, theme=t, source="staff") for t in staff_themes
            )
        return answer.id


def form_fields(form: dict[str, str | list[str]]) -> list[tuple[str, str]]:
    """A form dict as the (name, value) pairs a browser posts (one pair per ticked box)."""
    return [
        (name, value)
        for name, values in form.items()
        for value in ([values] if isinstance(values, str) else values)
    ]


def hidden_fields(html: str) -> list[tuple[str, str]]:
    """Every hidden input of a page, in order, unescaped."""
    import html as html_module
    import re

    return [
        (html_module.unescape(name), html_module.unescape(value))
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    ]


async def logged_in(client, email: str) -> str:  # type: ignore[no-untyped-def]
    """Log ``client`` in as ``email`` (PASSWORD); returns the new session's CSRF token."""
    import re

    page = await (await client.get("/team/login")).text()
    token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = await client.post(
        "/team/login", data={"_csrf": token, "email": email, "password": PASSWORD}
    )
    response = await pass_second_factor(client, response)
    page = await response.text()
    return re.search(r'name="_csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


async def staff_for(db: Database, email: str, *, role: str = "staff", team: str = "norr") -> Any:
    """A new member of staff of ``team``, as the operations see them (a core.access.Staff)."""
    from core.access import Staff

    user = await make_user(db, email, role=role, team=team)
    async with db.sessions() as session:
        team_id = (await session.get_one(StaffUser, user.id)).team_id
    return Staff(user.id, role, None if role == "admin" else frozenset({team_id}))


# --- Tests that can fail (issue 10: table cells, a referral received on a given day) --------


def table_rows(html: str) -> list[dict[str, str]]:
    """Each body row of the page's tables as {column label: cell text}, tags stripped."""
    import html as html_module
    import re

    rows = []
    for body in re.findall(r"<tbody[^>]*>(.*?)</tbody>", html, flags=re.S):
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S):
            cells = re.findall(r'<td[^>]*data-label="([^"]*)"[^>]*>(.*?)</td>', row, flags=re.S)
            rows.append({
                html_module.unescape(label): html_module.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
                for label, cell in cells
            })  # fmt: skip
    return rows


async def make_referral_received_on(  # type: ignore[no-untyped-def]
    db: Database, received: _date, **overrides: str | list[str]
):
    """A referral submitted through the use case, then dated as received on ``received``."""
    submission = await make_referral(db, **overrides)
    async with db.transaction() as session:
        referral = await session.get_one(Referral, submission.referral_id)
        referral.received_date = received
        referral.received_at = _datetime.combine(received, _time(9), tzinfo=_UTC)
    return submission
