"""``samverkan summary``, ``samverkan import`` and ``samverkan code-text``, run as commands.

The commands run in a child process against the test database, as a team would run them; the
records are the hand-computed ones of ``tests/reports/data/records.csv``.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import docx
import openpyxl
import pytest
from sqlalchemy import select

from app.commands import UserError
from app.commands.summary import ProgressBar, check_destination
from storage.db import Database
from storage.models import AuditEntry, Participant
from tests.common.teams import make_team

ROOT = Path(__file__).resolve().parents[2]
RECORDS = ROOT / "tests" / "reports" / "data" / "records.csv"
H1_2025 = ["--from", "2025-01-01", "--to", "2025-06-30"]


@dataclass
class Finished:
    status: int
    stdout: bytes
    stderr: str


@pytest.fixture
def samverkan(settings_env: dict[str, str], tmp_path: Path):  # type: ignore[no-untyped-def]
    """Run ``samverkan ARGS`` with the test settings; stdin from ``given``."""

    async def run(*args: str, given: bytes = b"") -> Finished:
        env = {**os.environ, **settings_env, "PYTHONPATH": str(ROOT)}
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app.cli",
            *args,
            cwd=tmp_path,
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate(given)
        assert process.returncode is not None
        return Finished(process.returncode, out, err.decode())

    return run


@pytest.fixture
async def imported(db: Database, samverkan) -> Database:  # type: ignore[no-untyped-def]
    await make_team(db, "ost", "Samverkansteam Öst", trial_months=3)
    await make_team(
        db,
        "vast",
        "Samverkansteam Väst",
        trial_months=2,
        result_reasons=["arbete", "studier", "annan_rehab", "arbetssokande"],
    )
    finished = await samverkan("import", str(RECORDS))
    assert finished.status == 0, finished.stderr
    assert (
        finished.stdout.decode() == "importerade 22 rader: 22 nya, 0 uppdaterade (team ost, vast)\n"
    )
    return db


async def test_summary_prints_suppressed_json_by_default(imported: Database, samverkan) -> None:  # type: ignore[no-untyped-def]
    finished = await samverkan("summary", *H1_2025, "--team", "ost")
    assert finished.status == 0, finished.stderr
    summary = json.loads(finished.stdout)
    assert summary["schema"] == "samverkan.summary/1"
    assert summary["suppression"]["threshold"] == 5
    # 6 active at the start and 6 ended are shown; 4 new and 4 active at the end are hidden
    assert summary["participants"]["active_at_start"] == 6
    assert summary["participants"]["new"] is None
    assert "participants.new" in summary["suppression"]["suppressed"]


async def test_no_suppress_gives_the_raw_figures(imported: Database, samverkan) -> None:  # type: ignore[no-untyped-def]
    finished = await samverkan("summary", *H1_2025, "--team", "ost", "--no-suppress")
    summary = json.loads(finished.stdout)
    assert [
        summary["participants"][k] for k in ("active_at_start", "new", "ended", "active_at_end")
    ] == [6, 4, 6, 4]
    assert summary["referrals"]["wait_days_median"] == 52.5
    async with imported.sessions() as session:
        exports = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "summary.exported"))
        ).all()
    assert [e.detail["suppressed"] for e in exports] == [False]


async def test_word_file_has_the_tables_of_the_summary(
    imported: Database, samverkan, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "rapport.docx"
    finished = await samverkan(
        "summary", *H1_2025, "--team", "ost", "--no-suppress", "--format", "docx", "--out", str(out)
    )
    assert finished.status == 0, finished.stderr
    tables = [
        [[c.text for c in row.cells] for row in t.rows] for t in docx.Document(str(out)).tables
    ]
    flow = next(t for t in tables if t[1][0] == "Aktiva vid periodens början")
    assert [row[:2] for row in flow[1:5]] == [
        ["Aktiva vid periodens början", "6"], ["Nya under perioden", "4"],
        ["Avslutade under perioden", "6"], ["Aktiva vid periodens slut", "4"],
    ]  # fmt: skip
    # the hand-computed queue and waiting time (tests/reports/test_summary.py), decimal comma
    queue = next(t for t in tables if t[1][0] == "Inkomna remisser")
    assert [row[:2] for row in queue[1:5]] == [
        ["Inkomna remisser", "4"], ["I kö vid periodens slut", "3"],
        ["Väntetid till start, medelvärde (dagar)", "51,5"],
        ["Väntetid till start, median (dagar)", "52,5"],
    ]  # fmt: skip
    outcomes = next(t for t in tables if t[1][0] == "Avslutade")
    assert [row[1] for row in outcomes[1:5]] == ["6", "2", "3", "75 %"]


async def test_excel_file_to_a_pipe_has_the_figures_as_numbers(
    imported: Database, samverkan
) -> None:  # type: ignore[no-untyped-def]
    finished = await samverkan(
        "summary", *H1_2025, "--team", "ost", "--no-suppress", "--format", "xlsx"
    )
    assert finished.status == 0, finished.stderr
    workbook = openpyxl.load_workbook(io.BytesIO(finished.stdout))
    rows = [[c.value for c in row] for row in workbook["Deltagare"].iter_rows()]
    assert rows[1:5] == [
        ["Aktiva vid periodens början", 6, 4], ["Nya under perioden", 4, 3],
        ["Avslutade under perioden", 6, 1], ["Aktiva vid periodens slut", 4, 6],
    ]  # fmt: skip
    queue = [[c.value for c in row][:2] for row in workbook["Kö och väntetid"].iter_rows()]
    assert queue[1:5] == [
        ["Inkomna remisser", 4], ["I kö vid periodens slut", 3],
        ["Väntetid till start, medelvärde (dagar)", 51.5],
        ["Väntetid till start, median (dagar)", 52.5],
    ]  # fmt: skip


async def test_markdown_goes_to_stdout(imported: Database, samverkan) -> None:  # type: ignore[no-untyped-def]
    finished = await samverkan("summary", *H1_2025, "--format", "md")
    assert finished.status == 0, finished.stderr
    assert finished.stdout.decode().startswith("# ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "2025-01-01", "--to", "2025-13-01"], "to: 2025-13-01 är inte ett datum"),
        (["--from", "2025-06-30", "--to", "2025-01-01"], "ligger före startdatumet"),
        ([*H1_2025, "--team", "nord"], "Det finns inget team med koden nord."),
    ],
)
async def test_a_mistake_exits_1_with_one_line(
    db: Database, samverkan, args: list[str], message: str
) -> None:  # type: ignore[no-untyped-def]
    finished = await samverkan("summary", *args)
    assert finished.status == 1
    assert finished.stderr.count("\n") == 1 and message in finished.stderr


async def test_a_bad_import_file_exits_1_and_stores_nothing(
    db: Database, samverkan, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    await make_team(db, "ost", "Samverkansteam Öst")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        RECORDS.read_text(encoding="utf-8").replace("P04,man,", "P04,mann,"), encoding="utf-8"
    )
    finished = await samverkan("import", str(bad), "--team", "ost")
    assert finished.status == 1
    assert finished.stderr.startswith("samverkan: bad.csv:5: kolumnen gender: okänd kod mann")
    assert finished.stderr.count("\n") == 1
    async with db.sessions() as session:
        assert (await session.scalars(select(Participant))).first() is None


async def test_code_text_writes_one_json_line_per_answer(db: Database, samverkan) -> None:  # type: ignore[no-untyped-def]
    given = "Gruppen gav mig pepp\nInget särskilt\n".encode()
    finished = await samverkan("code-text", given=given)
    assert finished.status == 0, finished.stderr
    lines = [json.loads(line) for line in finished.stdout.decode().splitlines()]
    assert [line["text"] for line in lines] == ["Gruppen gav mig pepp", "Inget särskilt"]
    assert "grupp" in lines[0]["themes"] and lines[1]["themes"] == []


def test_binary_formats_are_not_written_to_a_terminal() -> None:
    with pytest.raises(UserError, match="ange --out"):
        check_destination("docx", None, stdout_is_terminal=True)
    check_destination("docx", None, stdout_is_terminal=False)
    check_destination("xlsx", Path("r.xlsx"), stdout_is_terminal=True)
    check_destination("json", None, stdout_is_terminal=True)


def test_the_progress_bar_appears_only_after_a_moment() -> None:
    now = [0.0]
    stream = io.StringIO()
    bar = ProgressBar(stream, delay=0.5, clock=lambda: now[0])
    bar.update(1, 4, "deltagare")
    assert stream.getvalue() == ""
    now[0] = 0.8
    bar.update(2, 4, "avslut")
    bar.close()
    assert (
        stream.getvalue()
        == "\rsammanställer [" + "#" * 15 + "-" * 15 + "] 2/4 avslut" + " " * 24 + "\n"
    )
