"""The team's survey page: invitations shown once with links and QR codes, the team's survey."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select

from app.main import create_app
from app.settings import Settings
from core.clock import utcnow
from core.surveys import default_survey_path
from intake.context import BOT
from intake.invitations import telegram_link, web_link
from storage import invitations
from storage.db import Database
from storage.models import AuditEntry, Invitation, Team
from tests.common.surveys import make_enrolled_participant, make_survey_response
from tests.common.teams import make_team, make_user
from tests.common.web import csrf_from, log_in, table_rows


async def logged_in(aiohttp_client, settings, db, *, role="staff", bot_username=None):  # type: ignore[no-untyped-def]
    """A client logged in as a member of team norr's staff."""
    await make_user(db, f"{role}@example.se", role=role)
    app = create_app(settings, database=db)
    app[BOT].username = bot_username
    client = await aiohttp_client(app)
    await log_in(client, f"{role}@example.se")
    return client


async def post(client, path: str, **fields: str):  # type: ignore[no-untyped-def]
    """Post a form from the survey page, with its CSRF token."""
    page = await (await client.get("/team/enkater")).text()
    return await client.post(path, data={"_csrf": csrf_from(page), **fields})


def links(html: str) -> list[str]:
    """The survey links shown as links (each once, in order)."""
    found = re.findall(r'<a [^>]*href="([^"]+/enkat/[^"]+|https://t\.me/[^"]+)"', html)
    return [unescape(link) for link in dict.fromkeys(found)]


@pytest.fixture
async def team(db: Database) -> Team:
    team = await make_team(db)
    await make_enrolled_participant(db, "N-001", name="Anna Andersson")
    await make_enrolled_participant(db, "N-002", name="Bertil Berg", language="engelska")
    await make_enrolled_participant(db, "N-900", ended=True, name="Cecilia Ek")
    return team


async def test_the_page_lists_the_active_participants_by_name_and_board_reference(
    aiohttp_client, settings, db, team
) -> None:
    client = await logged_in(aiohttp_client, settings, db)

    html = await (await client.get("/team/enkater")).text()

    assert [(row["Person"], row["Referens"], row["Enkät"]) for row in table_rows(html)] == [
        ("Anna Andersson", "R-norr-N-001", "Inte inbjuden"),
        ("Bertil Berg", "R-norr-N-002", "Inte inbjuden"),
    ]
    assert "Cecilia Ek" not in html and "N-900" not in html


async def test_an_invitation_is_shown_once_as_links_and_qr_codes(
    aiohttp_client, settings, db, team
) -> None:
    client = await logged_in(aiohttp_client, settings, db, bot_username="samverkan_test_bot")
    async with db.sessions() as session:
        participant = await invitations.find_participant(session, "N-001", "norr")

    response = await post(client, f"/team/enkater/deltagare/{participant.id}")
    html = await response.text()

    web, telegram = links(html)
    token = web.rsplit("/", 1)[1]
    assert telegram == telegram_link("samverkan_test_bot", token)
    assert web == web_link(settings.public_url, token)
    assert html.count('src="data:image/svg+xml') == 2
    assert "Anna Andersson" in html and "R-norr-N-001" in html
    assert html.count('class="button secondary copy-button"') == 2
    async with db.sessions() as session:
        stored = await session.scalar(select(Invitation))
    assert stored.token_hash == invitations.hash_token(token) and token not in str(stored.__dict__)
    again = await (await client.get("/team/enkater")).text()
    anna = table_rows(again)[0]
    assert token not in again and anna["Enkät"].startswith("Inbjuden ")
    assert "gäller till" in anna["Enkät"]


async def test_without_the_bot_only_the_web_link_is_shown(
    aiohttp_client, settings, db, team
) -> None:
    client = await logged_in(aiohttp_client, settings, db)
    async with db.sessions() as session:
        participant = await invitations.find_participant(session, "N-002", "norr")

    html = await (await post(client, f"/team/enkater/deltagare/{participant.id}")).text()

    [web] = links(html)
    assert "/enkat/" in web and "t.me" not in html


async def test_a_coordinator_invites_all_active_participants_after_a_confirmation(
    aiohttp_client, settings, db, team
) -> None:
    client = await logged_in(aiohttp_client, settings, db, role="coordinator")

    confirm = await (await client.get("/team/enkater/alla?team=norr")).text()
    unconfirmed = await post(client, "/team/enkater/alla", team="norr")
    async with db.sessions() as session:
        none_yet = (await session.scalars(select(Invitation))).all()
    html = await (await post(client, "/team/enkater/alla", team="norr", confirmed="1")).text()

    assert "2 deltagare får en ny inbjudan." in confirm and "Skapa 2 inbjudningar" in confirm
    assert unconfirmed.status == 200 and str(unconfirmed.url).endswith(
        "/team/enkater/alla?team=norr"
    )
    assert none_yet == []
    assert "2 nya inbjudningar" in html and "Ladda ner alla 2 brev (PDF)" in html
    summaries = re.findall(r"<summary>([^<]+) <span", html)
    assert [name.strip() for name in summaries] == ["Anna Andersson", "Bertil Berg"]
    assert len(links(html)) == 2 and 'src="data:image/svg+xml' not in html


async def test_invite_all_skips_who_answered_or_was_invited_lately_and_says_why(
    aiohttp_client, settings, db, team
) -> None:
    dora = await make_enrolled_participant(db, "N-003", name="Dora Dahl")
    async with db.sessions() as session:
        anna = await invitations.find_participant(session, "N-001", "norr")
        bertil = await invitations.find_participant(session, "N-002", "norr")
    await make_survey_response(db, anna.id, completed=utcnow() - timedelta(minutes=5))
    await make_survey_response(db, bertil.id, completed=None, invited=utcnow() - timedelta(days=3))
    client = await logged_in(aiohttp_client, settings, db, role="coordinator")

    confirm = unescape(await (await client.get("/team/enkater/alla")).text())
    html = unescape(await (await post(client, "/team/enkater/alla", confirmed="1")).text())

    assert "1 deltagare får en ny inbjudan. 2 hoppas över." in confirm
    assert "Anna Andersson (R-norr-N-001): har svarat de senaste 30 dagarna" in confirm
    assert "Bertil Berg (R-norr-N-002): fick en inbjudan de senaste 30 dagarna" in confirm
    assert "1 ny inbjudan" in html and "Dora Dahl" in html
    async with db.sessions() as session:
        made = (await session.scalars(select(Invitation).order_by(Invitation.id))).all()
    assert [i.participant_id for i in made] == [anna.id, bertil.id, dora.id]
    assert all(i.revoked_at is None for i in made)


async def test_coaches_do_not_see_invite_all_and_are_refused(
    aiohttp_client, settings, db, team
) -> None:
    client = await logged_in(aiohttp_client, settings, db)

    page = await (await client.get("/team/enkater")).text()
    confirm = await client.get("/team/enkater/alla")
    invited = await post(client, "/team/enkater/alla", team="norr", confirmed="1")

    assert "/team/enkater/alla" not in page
    assert (confirm.status, invited.status) == (403, 403)
    async with db.sessions() as session:
        assert (await session.scalars(select(Invitation))).all() == []


async def test_the_list_is_searched_by_name_or_reference_and_filtered_by_status(
    aiohttp_client, settings, db, team
) -> None:
    async with db.sessions() as session:
        anna = await invitations.find_participant(session, "N-001", "norr")
    await make_survey_response(db, anna.id, completed=utcnow())
    client = await logged_in(aiohttp_client, settings, db)

    def people(html: str) -> list[str]:
        return [row["Person"] for row in table_rows(html)]

    async def search(words: str, status: str = "") -> str:
        sent = await post(client, "/team/enkater/sok", q=words, status=status)
        # The words went in the form and the session, never in a URL.
        assert [str(r.url) for r in sent.history] == [f"{client.make_url('/team/enkater/sok')}"]
        assert words == "" or words not in str(sent.url)
        return await sent.text()

    by_name = await search("bertil")
    again = await (await client.get("/team/enkater")).text()  # the search is kept
    by_ref = await search("r-norr-n-001")
    answered = await search("", "answered")
    not_invited = await search("anna", "not_invited")
    cleared = await (await client.get("/team/enkater?rensa=1")).text()

    assert people(by_name) == people(again) == ["Bertil Berg"]
    assert people(by_ref) == ["Anna Andersson"]
    assert people(answered) == ["Anna Andersson"] and "Besvarad" in table_rows(answered)[0]["Enkät"]
    assert people(not_invited) == [] and "Ingen deltagare matchar sökningen." in not_invited
    assert 'value="bertil"' in by_name and '<option value="answered" selected>' in answered
    assert len(people(cleared)) > 1


async def test_staff_cannot_invite_another_teams_participant(
    aiohttp_client, settings, db, team
) -> None:
    await make_team(db, "syd", "Resursteam Syd")
    other = await make_enrolled_participant(db, "S-1", team="syd")
    client = await logged_in(aiohttp_client, settings, db)

    response = await post(client, f"/team/enkater/deltagare/{other.id}")

    assert response.status == 404
    async with db.sessions() as session:
        assert (await session.scalars(select(Invitation))).all() == []


async def test_a_coordinator_naming_another_team_is_refused_not_given_their_own(
    aiohttp_client, settings, db, team
) -> None:
    await make_team(db, "syd", "Resursteam Syd")
    await make_enrolled_participant(db, "S-1", team="syd")
    client = await logged_in(aiohttp_client, settings, db, role="coordinator")

    invited = await post(client, "/team/enkater/alla", team="syd", confirmed="1")
    shown = await client.get("/team/enkater?team=syd")
    chosen = await post(client, "/team/enkater/enkat", team="syd", survey_file="")

    assert (invited.status, shown.status, chosen.status) == (403, 403, 403)
    async with db.sessions() as session:
        assert (await session.scalars(select(Invitation))).all() == []


async def test_the_page_needs_a_login(aiohttp_client, settings, db) -> None:
    client = await aiohttp_client(create_app(settings, database=db))

    response = await client.get("/team/enkater", allow_redirects=False)

    assert response.status == 303 and response.headers["Location"] == "/team/login"


@pytest.fixture
def survey_dir(settings: Settings) -> Path:
    """The förbund's own survey folder, where the settings say (in the test's data folder)."""
    folder = settings.surveys_dir
    folder.mkdir(parents=True)
    default = default_survey_path().read_text(encoding="utf-8")
    (folder / "norr.yaml").write_text(default.replace('"2026-2"', '"norr-2"'), encoding="utf-8")
    broken = default.replace("code: ja_lite", "code: lite")
    (folder / "trasig.yaml").write_text(broken, encoding="utf-8")
    return folder


async def test_a_coordinator_switches_the_team_to_its_own_survey(
    aiohttp_client, settings, db, team, survey_dir
) -> None:
    client = await logged_in(aiohttp_client, settings, db, role="coordinator")

    response = await post(client, "/team/enkater/enkat", team="norr", survey_file="norr.yaml")

    assert "Teamet använder nu enkäten default, version norr-2." in await response.text()
    async with db.sessions() as session:
        assert (await session.get(Team, team.id)).survey_file == "norr.yaml"


async def test_an_invalid_survey_file_is_refused_with_file_question_and_reason(
    aiohttp_client, settings, db, team, survey_dir
) -> None:
    client = await logged_in(aiohttp_client, settings, db, role="coordinator")

    response = await post(client, "/team/enkater/enkat", team="norr", survey_file="trasig.yaml")
    html = unescape(await response.text())

    assert response.status == 422
    assert "trasig.yaml" in html and "narmare_arbete" in html and "ja_mycket, ja_lite" in html
    async with db.sessions() as session:
        assert (await session.get(Team, team.id)).survey_file is None


async def test_staff_cannot_switch_the_survey(
    aiohttp_client, settings, db, team, survey_dir
) -> None:
    client = await logged_in(aiohttp_client, settings, db)

    response = await post(client, "/team/enkater/enkat", team="norr", survey_file="norr.yaml")

    assert response.status == 403


def pdf_pages(body: bytes) -> list[str]:
    """The text of each page of a PDF."""
    from pdfminer.high_level import extract_text

    text = extract_text(io.BytesIO(body))
    return [page for page in text.split("\f") if page.strip()]


async def test_the_letters_of_new_invitations_download_as_one_pdf_page_each(
    aiohttp_client, settings, db, team
) -> None:
    client = await logged_in(aiohttp_client, settings, db, role="coordinator")
    html = await (await post(client, "/team/enkater/alla", team="norr", confirmed="1")).text()
    tokens = re.findall(r'name="token" value="([^"]+)"', html)

    response = await client.post(
        "/team/enkater/brev", data=[("_csrf", csrf_from(html)), *[("token", t) for t in tokens]]
    )
    body = await response.read()

    assert response.status == 200 and response.content_type == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Anna" not in response.headers["Content-Disposition"]
    anna, bertil = pdf_pages(body)
    assert "Hej Anna Andersson!" in anna and web_link(settings.public_url, tokens[0]) in anna
    assert "Hur har det varit för dig hos oss?" in anna and "R-norr-N-001" in anna
    assert bertil.index("How has it been for you with us?") < bertil.index("Hur har det varit")
    assert "Hello Bertil Berg," in bertil and web_link(settings.public_url, tokens[1]) in bertil
    async with db.sessions() as session:
        printed = (
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "invitation.letter")
            )
        ).all()
    assert len(printed) == 2 and all("Anna" not in str(entry.detail) for entry in printed)


async def test_no_letter_for_a_replaced_or_unknown_token(
    aiohttp_client, settings, db, team
) -> None:
    client = await logged_in(aiohttp_client, settings, db)
    async with db.sessions() as session:
        anna = await invitations.find_participant(session, "N-001", "norr")
    first = await (await post(client, f"/team/enkater/deltagare/{anna.id}")).text()
    await post(client, f"/team/enkater/deltagare/{anna.id}")
    [old] = re.findall(r'name="token" value="([^"]+)"', first)

    response = await client.post(
        "/team/enkater/brev",
        data=[("_csrf", csrf_from(first)), ("token", old), ("token", "x" * 32)],
    )

    assert response.status == 410 and "ersatts av nyare" in await response.text()


async def test_the_person_page_shows_the_survey_status_and_invites(
    aiohttp_client, settings, db, team
) -> None:
    client = await logged_in(aiohttp_client, settings, db)
    async with db.sessions() as session:
        anna = await invitations.find_participant(session, "N-001", "norr")
    page = f"/team/deltagare/{anna.id}"

    before = await (await client.get(page)).text()
    made = await client.post(
        "/team/enkater/deltagare/" + str(anna.id),
        data={"_csrf": csrf_from(before), "back": "person"},
    )
    created = await made.text()
    after = await (await client.get(page)).text()

    assert re.search(r'class="survey-status">\s*Inte inbjuden', before)
    assert "Bjud in till enkät" in before and "copy-button" in before
    assert f"{settings.public_url}/team/deltagare/{anna.id}" in before
    [web] = links(created)
    assert 'src="data:image/svg+xml' in created and "Ladda ner 1 brev (PDF)" in created
    assert f'href="{page}"' in created and "Anna Andersson" in created
    assert re.search(r'class="survey-status"><span class="tag">Inbjuden</span> \d{4}-', after)
    assert web not in after
    async with db.sessions() as session:
        views = (
            await session.scalars(
                select(AuditEntry).where(
                    AuditEntry.action == "participant.viewed", AuditEntry.object_id == anna.id
                )
            )
        ).all()
    assert len(views) == 2
