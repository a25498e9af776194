"""Going live: invitation by e-mail, set-password and reset links, deactivation, server sessions.

Mail goes through the outbox to a real SMTP server on 127.0.0.1 (aiosmtpd).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from app.main import create_app
from services.mail import Mailer, deliver_outbox
from services.staff import deactivate_user, invite_staff
from storage.models import AuditEntry, StaffSession
from tests.common.mail import Inbox, link_in
from tests.common.servers import free_port
from tests.common.teams import PASSWORD, make_team, make_user, staff_for
from tests.common.web import csrf_from

NEW_PASSWORD = "en lång mening om fjällen"


@pytest.fixture
def inbox(settings_env: dict[str, str]) -> Iterator[Inbox]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings_env["SAMVERKAN_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    settings_env["SAMVERKAN_PUBLIC_URL"] = "http://samverkan.example.se"
    try:
        yield handler
    finally:
        controller.stop()


def mailer(settings_env: dict[str, str]) -> Mailer:
    return Mailer(settings_env["SAMVERKAN_SMTP_URL"], "samverkan@example.se")


async def log_in(client, email: str, password: str = PASSWORD, **headers: str) -> int:  # type: ignore[no-untyped-def]
    token = csrf_from(await (await client.get("/team/login", headers=headers)).text())
    response = await client.post(
        "/team/login",
        data={"_csrf": token, "email": email, "password": password},
        headers=headers,
        allow_redirects=False,
    )
    return int(response.status)


async def test_an_invited_person_sets_a_password_from_the_emailed_link_and_sees_the_board(
    aiohttp_client, settings, settings_env, db, inbox
) -> None:
    await make_team(db)
    await invite_staff(
        db, None, "ny@example.se", role="staff", team_code="norr", public_url=settings.public_url
    )
    await deliver_outbox(db, mailer(settings_env), holder="test")
    await inbox.wait_for(1)
    recipients, message = inbox.messages[0]
    assert recipients == ["ny@example.se"]
    path = link_in(message)
    client = await aiohttp_client(create_app(settings, database=db))

    page = await client.get(path)
    assert page.status == 200 and 'name="password2"' in await page.text()
    saved = await client.post(
        path,
        data={
            "_csrf": csrf_from(await page.text()),
            "password": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
    )
    assert saved.status == 200

    assert await log_in(client, "ny@example.se", NEW_PASSWORD) == 303
    board = await client.get("/team/remisser")
    assert board.status == 200 and "/team/admin/personal" not in await board.text()
    assert (await client.get("/team/admin/personal", allow_redirects=False)).status == 403
    again = await client.get(path)
    assert again.status == 404  # a link works once


async def test_short_common_and_different_passwords_are_refused_and_the_link_still_works(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    invited = await invite_staff(
        db, None, "ny@example.se", role="staff", team_code="norr", public_url=settings.public_url
    )
    path = invited.link.removeprefix(settings.public_url)
    client = await aiohttp_client(create_app(settings, database=db))
    token = csrf_from(await (await client.get(path)).text())
    for first, second in (
        ("kort", "kort"),
        ("password1234", "password1234"),
        (NEW_PASSWORD, NEW_PASSWORD + "x"),
    ):
        response = await client.post(
            path, data={"_csrf": token, "password": first, "password2": second}
        )
        assert response.status == 422
    assert (await client.get(path)).status == 200


async def test_an_expired_invitation_link_is_refused(aiohttp_client, settings, db) -> None:
    from datetime import timedelta

    from core.clock import utcnow

    await make_team(db)
    invited = await invite_staff(
        db,
        None,
        "ny@example.se",
        role="staff",
        team_code="norr",
        public_url=settings.public_url,
        now=utcnow() - timedelta(hours=73),
    )
    client = await aiohttp_client(create_app(settings, database=db))
    assert (await client.get(invited.link.removeprefix(settings.public_url))).status == 404


async def test_a_forgotten_password_mail_goes_only_to_real_accounts_and_the_answer_is_the_same(
    aiohttp_client, settings, settings_env, db, inbox
) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    client = await aiohttp_client(create_app(settings, database=db))
    login_page = await (await client.get("/team/login")).text()
    assert 'href="/konto/glomt-losenord"' in login_page and "Glömt lösenordet?" in login_page
    answers = []
    for email in ("coach@example.se", "ingen@example.se"):
        page = await client.get("/konto/glomt-losenord")
        response = await client.post(
            "/konto/glomt-losenord", data={"_csrf": csrf_from(await page.text()), "email": email}
        )
        answers.append((response.status, await response.text()))
    assert answers[0] == answers[1]
    await deliver_outbox(db, mailer(settings_env), holder="test")
    await inbox.wait_for(1)
    await asyncio.sleep(0.2)
    assert [m[0] for m in inbox.messages] == [["coach@example.se"]]

    path = link_in(inbox.messages[0][1])
    token = csrf_from(await (await client.get(path)).text())
    await client.post(
        path, data={"_csrf": token, "password": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert await log_in(client, "coach@example.se", PASSWORD) == 401
    assert await log_in(client, "coach@example.se", NEW_PASSWORD) == 303


async def test_a_cookie_copied_before_logout_does_not_work_afterwards(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    client = await aiohttp_client(create_app(settings, database=db))
    assert await log_in(client, "coach@example.se") == 303
    copied = {c.key: c.value for c in client.session.cookie_jar}["samverkan_session"]
    page = await (await client.get("/team/remisser")).text()
    await client.post("/team/logout", data={"_csrf": csrf_from(page)})

    client.session.cookie_jar.clear()
    replay = await client.get(
        "/team/remisser", headers={"Cookie": f"samverkan_session={copied}"}, allow_redirects=False
    )
    assert replay.status == 303 and replay.headers["Location"] == "/team/login"
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StaffSession)) == 0


async def test_deactivation_ends_the_open_session_at_once_and_blocks_the_login(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    client = await aiohttp_client(create_app(settings, database=db))
    assert await log_in(client, "coach@example.se") == 303
    assert (await client.get("/team/remisser")).status == 200

    user_id = await deactivate_user(db, None, email="coach@example.se")

    gone = await client.get("/team/remisser", allow_redirects=False)
    assert gone.status == 303 and gone.headers["Location"] == "/team/login"
    assert await log_in(client, "coach@example.se") == 401
    async with db.sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "user.deactivated")
        )
    assert entry is not None and entry.object_id == user_id
    assert entry.detail == {"sessions_ended": 1}


async def test_a_role_change_ends_the_sessions_of_that_person(aiohttp_client, settings, db) -> None:
    from services.staff import change_role

    await make_team(db)
    user = await make_user(db, "coach@example.se")
    client = await aiohttp_client(create_app(settings, database=db))
    assert await log_in(client, "coach@example.se") == 303
    admin = await staff_for(db, "admin@example.se", role="admin")
    await change_role(db, admin, user.id, "coordinator")
    assert (await client.get("/team/remisser", allow_redirects=False)).status == 303


async def test_anonymous_referral_form_views_write_no_session(aiohttp_client, settings, db) -> None:
    await make_team(db)
    client = await aiohttp_client(create_app(settings, database=db))
    for _ in range(3):
        assert (await client.get("/remiss")).status == 200
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(StaffSession)) == 0
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0
