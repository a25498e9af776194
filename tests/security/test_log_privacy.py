"""Log lines carry ids and codes, never personal data (STYLE.md habit 9).

The app runs with its own logging set up at DEBUG (``SAMVERKAN_LOG_LEVEL=debug``), every
record is kept, and a referral is sent through the web form, declined on the board, and
another is followed through enrolment, a step, a personnummer view and its end (a path with
no survey); then the outbox sends the mail those queued, to a real SMTP server. No record, in its message, arguments, ``extra`` fields or traceback, may carry
a name, personnummer, e-mail address, phone number or free text typed into the form.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from app.logs import JsonFormatter, configure_logging
from app.main import create_app
from core.clock import today_in_sweden
from services.mail import Mailer, deliver_outbox
from storage.models import Referral
from tests.common.mail import Inbox
from tests.common.referrals import referral_form
from tests.common.servers import free_port
from tests.common.teams import make_team, make_user
from tests.common.web import form_fields, hidden_fields, log_in

SECRET_TEXTS = {
    "person_name": "Svea Loggström",
    "personnummer": "19850312-1231",
    "person_phone": "070-765 43 21",
    "referrer_name": "Tove Handläggarsson",
    "referrer_email": "tove.handlaggarsson@arbetsformedlingen.se",
    "referrer_phone": "010-486 12 34",
    "help_wanted": "Vill orka en hel arbetsdag och sova bättre om nätterna",
    "practical_needs": "Behöver hiss och tolk vid första mötet",
}
FREE_TEXTS = {
    "decline_reason": "Personen passar bättre i den kommunala insatsen Steget",
    "note": "Pratade med mamman om sömnen",
    "step_note": "Började arbetsträna på biblioteket",
}
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def spellings(value: str) -> set[str]:
    """The value and the ways it may be written without spaces or hyphens, lower case."""
    plain = value.lower()
    digits = re.sub(r"\D", "", value)
    found = {plain, plain.replace(" ", ""), plain.replace("-", "")}
    if len(digits) >= 8:  # a personnummer or phone number: also as bare digits, 10 or 12 long
        found |= {digits, digits[2:]} if len(digits) == 12 else {digits}
    return found


class Keep(logging.Handler):
    """Keeps every record it is given."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def mailer(settings_env: dict[str, str]) -> Iterator[Mailer]:
    """A real SMTP server on loopback (aiosmtpd); the app's settings and a mailer point at it."""
    port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    settings_env["SAMVERKAN_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    settings_env["SAMVERKAN_SMTP_FROM"] = "samverkan@forbund.example.se"
    try:
        yield Mailer(settings_env["SAMVERKAN_SMTP_URL"], settings_env["SAMVERKAN_SMTP_FROM"])
    finally:
        controller.stop()


@pytest.fixture
def app_logs() -> Iterator[list[logging.LogRecord]]:
    """The app's own logging configuration at DEBUG; every record, restored afterwards."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    handlers, level = root.handlers[:], root.level
    configure_logging("DEBUG")
    keep = Keep()
    root.addHandler(keep)
    yield keep.records
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, old in levels.items():
        logging.getLogger(name).setLevel(old)


def rendered(record: logging.LogRecord) -> str:
    """Everything a log line can show of the record: the JSON line and the raw arguments."""
    return f"{JsonFormatter().format(record)} {record.msg!r} {record.args!r}".lower()


async def send_referral(client, **fields: str) -> None:  # type: ignore[no-untyped-def]
    """Form, review and send, as a case worker does."""
    hidden = hidden_fields(await (await client.get("/remiss")).text())
    review = await client.post("/remiss", data=hidden + form_fields(referral_form(**fields)))
    assert review.status == 200
    sent = await client.post(
        "/remiss/skicka", data=hidden_fields(await review.text()), allow_redirects=False
    )
    assert sent.status == 303


async def test_no_log_record_carries_personal_data_or_free_text(
    aiohttp_client, mailer: Mailer, settings, db, app_logs: list[logging.LogRecord]
) -> None:
    await make_team(db)
    await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    client = await aiohttp_client(create_app(settings, database=db))
    await send_referral(client, **SECRET_TEXTS)
    await send_referral(client, **{**SECRET_TEXTS, "personnummer": "19900101-0017"})
    async with db.sessions() as session:
        declined, enrolled = (
            await session.scalars(select(Referral.id).order_by(Referral.id))
        ).all()

    staff = await aiohttp_client(create_app(settings, database=db))
    token = await log_in(staff, "samordnare@example.se")

    async def post(path: str, expected: int = 303, **data: str) -> None:
        response = await staff.post(path, data={"_csrf": token, **data}, allow_redirects=False)
        assert response.status == expected, (path, response.status)

    await post(
        f"/team/remisser/{declined}/status",
        to="declined",
        decline_reason=FREE_TEXTS["decline_reason"],
        note=FREE_TEXTS["note"],
    )
    for target in ("assessing", "queued"):
        await post(f"/team/remisser/{enrolled}/status", to=target, note=FREE_TEXTS["note"])
    await post(
        f"/team/remisser/{enrolled}/status",
        to="visit_booked",
        visit_date=today_in_sweden().isoformat(),
        note=FREE_TEXTS["note"],
    )
    async with db.sessions() as session:
        referral = await session.get_one(Referral, enrolled)
        person, received = referral.participant_id, referral.received_date.isoformat()
    await post(f"/team/remisser/{enrolled}/inskrivning", start_date=received)
    await post(
        f"/team/deltagare/{person}/steg",
        referral=str(enrolled),
        step="aktivitet",
        recorded_on=received,
        note=FREE_TEXTS["step_note"],
    )
    await post(f"/team/deltagare/{person}/personnummer", 200, reason="kontakt_myndighet")
    await post(
        f"/team/deltagare/{person}/avslut",
        referral=str(enrolled),
        end_date=received,
        end_reason="studier",
        income_source_after="studiemedel",
        confirm="ja",
    )

    delivery = await deliver_outbox(db, mailer, holder="test:1")  # as the outbox job does
    assert delivery.sent >= 3  # the coordinator told of each referral, the referrer of the no

    ours = [r for r in app_logs if not r.name.startswith("mail.log")]  # not aiosmtpd's own
    lines = [rendered(record) for record in ours]
    secrets = {
        s
        for value in [
            *SECRET_TEXTS.values(),
            *FREE_TEXTS.values(),
            "19900101-0017",
            "Svea",
            "Loggström",
        ]
        for s in spellings(value)
    }
    leaks = sorted({(secret, line[:200]) for line in lines for secret in secrets if secret in line})
    addresses = sorted({match.group(0) for line in lines for match in EMAIL.finditer(line)})
    assert any(r.getMessage() == "mail.sent" and r.mail_id for r in ours)  # type: ignore[attr-defined]
    assert (leaks, addresses) == ([], [])
