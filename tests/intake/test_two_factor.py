"""Two-factor login: TOTP required for admins (and for everyone when the förbund says so),
enrolment with a QR code and recovery codes shown once; codes and recovery codes work once."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from app.main import create_app
from app.settings import load_settings
from storage.models import StaffUser
from tests.common.teams import PASSWORD, make_team, make_user
from tests.common.web import csrf_from


async def password_step(client, email: str) -> str:  # type: ignore[no-untyped-def]
    """Log in with the password; where the login sends the person next."""
    token = csrf_from(await (await client.get("/team/login")).text())
    response = await client.post(
        "/team/login",
        allow_redirects=False,
        data={"_csrf": token, "email": email, "password": PASSWORD},
    )
    assert response.status == 303
    return response.headers["Location"]


async def post_code(client, path: str, code: str):  # type: ignore[no-untyped-def]
    token = csrf_from(await (await client.get(path)).text())
    return await client.post(path, data={"_csrf": token, "code": code}, allow_redirects=False)


async def test_an_admin_enrols_with_a_qr_code_and_then_logs_in_with_codes_that_work_once(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_user(db, "chef@example.se", role="admin", team=None, two_factor=False)
    client = await aiohttp_client(create_app(settings, database=db))

    assert await password_step(client, "chef@example.se") == "/team/tvafaktor"
    assert (await client.get("/team/remisser", allow_redirects=False)).status == 303  # pending
    page = await (await client.get("/team/tvafaktor")).text()
    assert "<svg" in page and 'href="otpauth://totp/' in page
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")  # type: ignore[union-attr]
    assert (await post_code(client, "/team/tvafaktor", "000000")).status == 422
    first_code = pyotp.TOTP(secret).now()
    enrolled = await post_code(client, "/team/tvafaktor", first_code)
    codes = re.findall(r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", await enrolled.text())
    assert enrolled.status == 200 and len(codes) == 10
    assert (await client.get("/team/remisser")).status == 200
    async with db.sessions() as session:
        user = await session.scalar(select(StaffUser).where(StaffUser.email == "chef@example.se"))
    assert user is not None and user.totp_secret == secret and user.totp_enabled_at is not None
    assert codes[0] not in str(user.recovery_codes)  # only hashes are kept

    client.session.cookie_jar.clear()
    assert await password_step(client, "chef@example.se") == "/team/login/kod"
    replayed = await post_code(client, "/team/login/kod", first_code)
    assert replayed.status == 401  # the very code used at enrolment (even in the next step)
    recovered = await post_code(client, "/team/login/kod", codes[0])
    assert recovered.status == 303 and recovered.headers["Location"] == "/team/"

    client.session.cookie_jar.clear()
    await password_step(client, "chef@example.se")
    assert (await post_code(client, "/team/login/kod", codes[0])).status == 401


async def test_staff_need_a_second_factor_only_when_the_forbund_requires_it(
    aiohttp_client, settings_env, db, tmp_path
) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    default = load_settings(settings_env, dotenv_path=tmp_path / "no.env")
    everyone = load_settings(
        {**settings_env, "SAMVERKAN_TWO_FACTOR": "everyone"}, dotenv_path=tmp_path / "no.env"
    )
    first = await aiohttp_client(create_app(default, database=db))
    second = await aiohttp_client(create_app(everyone, database=db))
    assert await password_step(first, "coach@example.se") == "/team/"
    assert await password_step(second, "coach@example.se") == "/team/tvafaktor"


async def test_wrong_codes_are_limited_per_account(aiohttp_client, settings, db) -> None:
    await make_team(db)
    await make_user(db, "chef@example.se", role="admin", team=None)
    client = await aiohttp_client(create_app(settings, database=db))
    await password_step(client, "chef@example.se")
    statuses = [(await post_code(client, "/team/login/kod", "123456")).status for _ in range(6)]
    assert statuses == [401] * 6
    last = await post_code(client, "/team/login/kod", "test-0499")
    assert last.status == 401 and "För många försök" in await last.text()
