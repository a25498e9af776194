"""The summaries page: pickers, the report's tables and charts, downloads, and theme review."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import docx
import pytest
from sqlalchemy import select

from app.main import create_app
from core.clock import today_in_sweden
from reports.periods import last_half_year
from services.importing import import_records, read_records
from storage.db import Database
from storage.models import Answer, AnswerTheme, AuditEntry, Participant, Team
from tests.common.surveys import make_survey_response
from tests.common.teams import make_team, make_user
from tests.common.web import csrf_from, log_in

RECORDS = Path(__file__).resolve().parents[1] / "reports" / "data" / "records.csv"
H1_2025 = "period=egen&from=2025-01-01&to=2025-06-30"
JUNE = datetime(2025, 6, 10, 10, tzinfo=UTC)


@pytest.fixture
async def records(db: Database) -> Database:
    """Teams ost and vast with the hand-computed records, and a coach of ost."""
    await make_team(db, "ost", "Samverkansteam Öst", trial_months=3)
    await make_team(db, "vast", "Samverkansteam Väst", trial_months=2)
    rows = read_records(
        RECORDS.read_text(encoding="utf-8"),
        file="records.csv",
        team_codes={"ost", "vast"},
        default_team=None,
        today=date(2026, 1, 15),
    )
    await import_records(db, rows, file="records.csv")
    await make_user(db, "coach@example.se", team="ost")
    await make_user(db, "admin@example.se", role="admin", team=None)
    return db


async def person(db: Database, team: str, ref: str) -> int:
    async with db.sessions() as session:
        found = await session.scalar(
            select(Participant.id)
            .join(Team, Team.id == Participant.team_id)
            .where(Team.code == team, Participant.person_ref == ref)
        )
    assert found is not None
    return found


@pytest.fixture
async def client(aiohttp_client, settings, records: Database):  # type: ignore[no-untyped-def]
    return await aiohttp_client(create_app(settings, database=records))


def cells(html: str, label: str) -> list[str]:
    """The cells of the table row headed ``label``."""
    row = re.search(rf'<th scope="row">{re.escape(label)}</th>(.*?)</tr>', html, re.S)
    assert row, f"no row {label}"
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))


async def test_the_page_shows_the_suppressed_tables_of_the_team(client) -> None:  # type: ignore[no-untyped-def]
    await log_in(client)
    response = await client.get(f"/team/sammanstallning?{H1_2025}")
    html = await response.text()
    assert response.status == 200
    # period, then the previous half-year: 6 and 4 active at the start; 4 new is hidden as <5
    assert cells(html, "Aktiva vid periodens början") == ["6", "&lt;5"]
    assert cells(html, "Nya under perioden")[0] == "&lt;5"
    assert "<caption>" in html and "download>" in html
    assert "visas som &lt;5" in html


async def test_small_numbers_are_shown_only_when_asked_for(client) -> None:  # type: ignore[no-untyped-def]
    await log_in(client)
    html = await (await client.get(f"/team/sammanstallning?{H1_2025}&sma_tal=visa")).text()
    assert cells(html, "Nya under perioden")[0] == "4"
    assert "bara för teamets eget bruk" in html


async def test_charts_whose_figures_are_all_hidden_are_left_out_with_a_sentence(client) -> None:  # type: ignore[no-untyped-def]
    await log_in(client)
    html = await (await client.get(f"/team/sammanstallning?{H1_2025}")).text()
    # team ost's four new participants are spread over groups of one or two: every bar is hidden
    assert "Figuren ”Nya deltagare per remitterande aktör” visas inte" in html
    assert "referrals_by_group.png" not in html


async def test_charts_are_images_with_alt_text_and_no_personal_data_in_the_address(client) -> None:  # type: ignore[no-untyped-def]
    await log_in(client)
    html = await (await client.get(f"/team/sammanstallning?{H1_2025}&sma_tal=visa")).text()
    images = re.findall(r'<img class="chart" src="([^"]+)" alt="([^"]+)"', html)
    # no survey answers in the records: the two survey charts are a sentence each instead
    assert {src.split("?")[0].rsplit("/", 1)[1] for src, _ in images} == {
        "referrals_by_group.png", "end_reasons.png", "throughput_trend.png",
    }  # fmt: skip
    assert "Figuren ”Självskattat allmänt hälsotillstånd” visas inte" in html
    assert all(alt.strip() for _, alt in images)
    src = images[0][0].replace("&amp;", "&")
    assert set(re.findall(r"[?&]([a-z_]+)=", src)) <= {"period", "from", "to", "team", "sma_tal"}
    chart = await client.get(src)
    assert chart.status == 200 and (await chart.read()).startswith(b"\x89PNG")


async def test_each_chart_has_its_numbers_in_a_table_beside_it(client) -> None:  # type: ignore[no-untyped-def]
    await log_in(client)
    html = await (await client.get(f"/team/sammanstallning?{H1_2025}&sma_tal=visa")).text()
    figures = re.findall(r'<figure class="chart-figure">(.*?)</figure>', html, re.S)
    assert len(figures) == 3
    for figure in figures:
        assert '<img class="chart"' in figure and '<table class="chart-data">' in figure
    trend = next(f for f in figures if "throughput_trend.png" in f)
    assert "Medelvärde, månader" in trend and re.search(r'<td class="num">\d+,\d</td>', trend)


async def test_a_download_is_the_report_file_and_is_audited(client, records: Database) -> None:  # type: ignore[no-untyped-def]
    await log_in(client)
    response = await client.get(f"/team/sammanstallning/ladda-ner.docx?{H1_2025}&team=ost")
    assert response.status == 200
    assert (
        'filename="sammanstallning-ost-2025-01-01-2025-06-30.docx"'
        in response.headers["Content-Disposition"]
    )
    document = docx.Document(io.BytesIO(await response.read()))
    assert document.tables[0].rows[1].cells[1].text == "6"
    async with records.sessions() as session:
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "summary.exported")
        )
    assert entry is not None
    assert entry.detail == {
        "format": "docx",
        "team": "ost",
        "from": "2025-01-01",
        "to": "2025-06-30",
        "suppressed": True,
    }


async def test_staff_see_only_their_own_team(client) -> None:  # type: ignore[no-untyped-def]
    await log_in(client)
    assert (await client.get(f"/team/sammanstallning?{H1_2025}&team=vast")).status == 404
    html = await (await client.get(f"/team/sammanstallning?{H1_2025}")).text()
    assert "Hela förbundet" not in html


async def test_a_forbund_admin_can_choose_the_whole_forbund(client) -> None:  # type: ignore[no-untyped-def]
    await log_in(client, "admin@example.se")
    html = await (await client.get(f"/team/sammanstallning?{H1_2025}&team=&sma_tal=visa")).text()
    assert "Hela förbundet" in html
    assert cells(html, "Aktiva vid periodens början")[0] == "7"  # ost 6 + vast 1


@pytest.mark.parametrize(
    ("dates", "message"),
    [
        ("from=2025-06-30&to=2025-01-01", "ligger före startdatumet"),
        ("from=2025-13-01&to=2025-06-30", "Skriv datumet som ÅÅÅÅ-MM-DD"),
    ],
)
async def test_wrong_dates_are_explained_and_nothing_is_shown(
    client, dates: str, message: str
) -> None:  # type: ignore[no-untyped-def]
    await log_in(client)
    response = await client.get(f"/team/sammanstallning?period=egen&{dates}")
    html = await response.text()
    assert response.status == 422
    assert 'class="error-summary"' in html and message in html
    assert "<table>" not in html


async def test_the_last_half_year_is_the_default_period(client) -> None:  # type: ignore[no-untyped-def]
    await log_in(client)
    html = await (await client.get("/team/sammanstallning")).text()
    expected = last_half_year(today_in_sweden())
    assert f'name="from" type="date" value="{expected.first_day.isoformat()}"' in html
    assert f'name="to" type="date" value="{expected.last_day.isoformat()}"' in html
    assert 'value="halvar" checked' in html


async def test_anonymous_visitors_are_sent_to_the_login_page(client) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/team/sammanstallning", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/team/login"


async def test_unthemed_answers_are_listed_and_a_correction_wins(client, records: Database) -> None:  # type: ignore[no-untyped-def]
    unthemed = await make_survey_response(
        records,
        await person(records, "ost", "P01"),
        completed=JUNE,
        useful="Fikat med de andra varje tisdag",
    )
    themed = await make_survey_response(
        records,
        await person(records, "ost", "P03"),
        completed=JUNE,
        useful="Gruppen",
        auto_themes=["grupp"],
    )
    await log_in(client)
    page = await client.get(f"/team/sammanstallning/teman?{H1_2025}&team=ost")
    html = await page.text()
    assert "Fikat med de andra" in html and f'id="svar-{themed}"' not in html
    back = f"/team/sammanstallning/teman?{H1_2025}&team=ost"
    response = await client.post(
        f"/team/sammanstallning/teman/{unthemed}",
        data={"_csrf": csrf_from(html), "themes": ["social", "grupp"], "tillbaka": back},
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == f"{back}#svar-{unthemed}"
    async with records.sessions() as session:
        rows = (
            await session.execute(
                select(AnswerTheme.theme, AnswerTheme.source).where(
                    AnswerTheme.answer_id == unthemed
                )
            )
        ).all()
        answer = await session.get(Answer, unthemed)
        audited = await session.scalar(
            select(AuditEntry.detail).where(AuditEntry.action == "answer.themes_corrected")
        )
    assert sorted(rows) == [("grupp", "staff"), ("social", "staff")]
    assert answer is not None and answer.themes_corrected_at is not None
    assert audited == {"themes": ["grupp", "social"]}
    listed = await (await client.get(back)).text()
    assert "Fikat med de andra" not in listed and "Temana är sparade" in listed


async def test_another_teams_answer_cannot_be_corrected(client, records: Database) -> None:  # type: ignore[no-untyped-def]
    theirs = await make_survey_response(
        records, await person(records, "vast", "P01"), completed=JUNE, useful="Samtalen"
    )
    await log_in(client)
    token = csrf_from(await (await client.get("/team/sammanstallning")).text())
    response = await client.post(
        f"/team/sammanstallning/teman/{theirs}", data={"_csrf": token, "themes": ["samtal"]}
    )
    assert response.status == 404
    async with records.sessions() as session:
        assert (
            await session.scalars(select(AnswerTheme).where(AnswerTheme.answer_id == theirs))
        ).first() is None


@pytest.mark.parametrize(
    "name", ["referrals_by_group", "end_reasons", "throughput_trend", "closer_to_work", "health"]
)
async def test_each_chart_of_the_page_is_a_png_image(client, name: str) -> None:  # type: ignore[no-untyped-def]
    await log_in(client)
    page = await (await client.get(f"/team/sammanstallning?{H1_2025}&sma_tal=visa")).text()
    if name in ("referrals_by_group", "end_reasons", "throughput_trend"):  # others: no answers
        assert f"/team/sammanstallning/diagram/{name}.png?" in page
    response = await client.get(f"/team/sammanstallning/diagram/{name}.png?{H1_2025}")
    assert response.status == 200 and response.content_type == "image/png"
    body = await response.read()
    assert body.startswith(b"\x89PNG\r\n\x1a\n") and len(body) > 5_000


async def test_an_unknown_chart_is_not_found(client) -> None:  # type: ignore[no-untyped-def]
    await log_in(client)
    response = await client.get(f"/team/sammanstallning/diagram/nope.png?{H1_2025}")
    assert response.status == 404
