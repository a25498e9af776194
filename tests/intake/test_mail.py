"""E-mail through a real SMTP server on 127.0.0.1 (aiosmtpd): coordinators and referrers."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from app.main import create_app
from app.settings import load_settings
from tests.factories import (
    form_fields,
    hidden_fields,
    logged_in,
    make_referral,
    make_team,
    make_user,
    referral_form,
)

PERSONAL_DATA = ("Sara", "Exempel", "19850312", "1231", "070-123", "Lena", "Handläggare")


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]  # noqa: N802
        self.messages.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default))
        )  # type: ignore[arg-type]
        return "250 OK"

    async def wait_for(self, count: int) -> None:
        """Wait (at most five seconds) until ``count`` messages have arrived."""
        # The handler runs in aiosmtpd's own thread and loop, so an asyncio.Event cannot wake us.
        async with asyncio.timeout(5):
            while len(self.messages) < count:  # noqa: ASYNC110
                await asyncio.sleep(0.02)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox(settings_env: dict[str, str]) -> Iterator[Inbox]:
    """A real SMTP server on loopback; the app's settings point at it."""
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings_env["SAMVERKAN_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    settings_env["SAMVERKAN_SMTP_FROM"] = "samverkan@forbund.example.se"
    settings_env["SAMVERKAN_PUBLIC_URL"] = "http://samverkan.example.se"  # https needs TLS here
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
async def app(inbox, settings, db):  # type: ignore[no-untyped-def]
    await make_team(db, "norr")
    await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    await make_user(db, "coach@example.se", role="staff", team="norr")
    return create_app(settings, database=db)


async def send_referral(client) -> None:  # type: ignore[no-untyped-def]
    """Fill in, review and send the referral form as a case worker does."""
    page = await (await client.get("/remiss")).text()
    review = await client.post("/remiss", data=hidden_fields(page) + form_fields(referral_form()))
    fields = hidden_fields(await review.text())
    response = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    assert response.status == 303
    again = await client.post("/remiss/skicka", data=fields, allow_redirects=False)
    assert again.status == 303


async def test_coordinators_get_a_link_to_a_new_referral_and_no_personal_data(
    aiohttp_client, app, inbox
) -> None:
    client = await aiohttp_client(app)
    await send_referral(client)
    await inbox.wait_for(1)
    await asyncio.sleep(0.2)  # a second message (the resent form) would have arrived by now
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    body = message.get_content()
    assert recipients == ["samordnare@example.se"]
    assert message["Subject"] == "Ny remiss till Samverkansteam Norr"
    assert "http://samverkan.example.se/team/remisser/1" in body
    assert not any(secret in body + message["Subject"] for secret in PERSONAL_DATA)


async def test_declining_mails_the_referrer_the_reason_but_never_the_team_note(
    aiohttp_client, app, inbox, db
) -> None:
    submission = await make_referral(db)
    client = await aiohttp_client(app)
    token = await logged_in(client, "coach@example.se")
    response = await client.post(
        f"/team/remisser/{submission.referral_id}/status",
        data={
            "_csrf": token,
            "to": "declined",
            "note": "INTERN: missbruk enligt soc",
            "decline_reason": "Personen behöver först stöd från psykiatrin.",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    await inbox.wait_for(1)
    recipients, message = inbox.messages[0]
    body = message.get_content()
    assert recipients == ["lena.handlaggare@arbetsformedlingen.se"]
    assert message["Subject"] == f"Remiss {submission.reference} har avböjts"
    assert "Personen behöver först stöd från psykiatrin." in body
    assert "INTERN" not in body and "missbruk" not in body
    assert not any(secret in body for secret in ("Sara", "19850312"))


async def test_a_referral_is_kept_when_the_mail_server_is_down(
    aiohttp_client, settings_env, db, tmp_path
) -> None:
    settings_env["SAMVERKAN_SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nobody listens
    await make_team(db, "norr")
    await make_user(db, "samordnare@example.se", role="coordinator", team="norr")
    settings = load_settings(settings_env, dotenv_path=tmp_path / "none.env")
    client = await aiohttp_client(create_app(settings, database=db))
    await send_referral(client)
    receipt = await (await client.get("/remiss/kvitto")).text()
    assert "Remissen är skickad" in receipt
