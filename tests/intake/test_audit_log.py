"""The audit log's readable names: every action written anywhere in the code has one."""

from __future__ import annotations

import ast
from pathlib import Path

from app.main import create_app
from core.clock import today_in_sweden
from core.translations import translate_to
from intake.audit_log import ACTION_LABELS, action_label
from storage.models import Referral
from tests.common.referrals import make_referral
from tests.common.teams import make_team, make_user
from tests.common.web import log_in, table_rows

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("app", "bot", "core", "intake", "reports", "services", "storage")


def _is_audit_record(node: ast.AST) -> bool:
    """True for a call ``audit.record(...)`` (or ``audit.record_sync(...)``)."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("record", "record_sync")
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "audit"
    )


def _actions_of(call: ast.Call, where: str) -> tuple[str, ...]:
    """The actions a call of ``audit.record`` writes: a string literal, or a choice of two."""
    sent = call.args[1] if len(call.args) > 1 else None
    sent = sent or next((k.value for k in call.keywords if k.arg == "action"), None)
    choices = (sent.body, sent.orelse) if isinstance(sent, ast.IfExp) else (sent,)
    assert all(isinstance(c, ast.Constant) and isinstance(c.value, str) for c in choices), (
        f"{where}: write the audit action as a string literal, so its label can be checked"
    )
    return tuple(c.value for c in choices if isinstance(c, ast.Constant))


def written_actions() -> dict[str, str]:
    """Every action that the code passes to ``audit.record``, with where it is written."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _is_audit_record(node):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    for action in _actions_of(node, where):
                        found.setdefault(action, where)
    return found


def test_the_scan_finds_actions_written_in_every_layer() -> None:
    written = written_actions()
    expected = {
        "referral.submitted",
        "keys.rotated",
        "survey.answers_deleted",
        "summary.exported",
        "answer.themes_corrected",
        "invitation.sent_sms",
        "invitation.sent_email",
    }
    assert expected <= set(written)


def test_every_action_written_in_the_code_has_a_label() -> None:
    unlabelled = {
        action: where for action, where in written_actions().items() if action not in ACTION_LABELS
    }
    assert unlabelled == {}


def test_every_label_is_translated_into_english() -> None:
    untranslated = [text for text in ACTION_LABELS.values() if translate_to("en", text) == text]
    assert untranslated == []


def test_an_unknown_action_is_shown_as_its_code() -> None:
    assert action_label("participant.exported") == "Registerutdrag togs ut"
    assert action_label("something.new") == "something.new"


async def test_the_log_names_people_by_reference_and_changes_by_their_labels(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_user(db, "samordnare@example.se", role="coordinator")
    submission = await make_referral(db)
    client = await aiohttp_client(create_app(settings, database=db))
    token = await log_in(client, "samordnare@example.se")
    status = f"/team/remisser/{submission.referral_id}/status"
    for target, extra in (
        ("assessing", {}),
        ("queued", {}),
        ("visit_booked", {"visit_date": today_in_sweden().isoformat()}),
    ):
        sent = await client.post(
            status, data={"_csrf": token, "to": target, **extra}, allow_redirects=False
        )
        assert sent.status == 303
    assert (await client.get(f"/team/remisser/{submission.referral_id}")).status == 200
    async with db.sessions() as session:
        participant = (await session.get_one(Referral, submission.referral_id)).participant_id

    page = await (await client.get("/team/logg")).text()
    rows = table_rows(page)
    moves = [row for row in rows if row["Vad"] == "Remissens status ändrades"]
    assert [row["Detaljer"] for row in moves] == [
        "Status ändrad: I kö → Studiebesök bokat",
        "Status ändrad: Under bedömning → I kö",
        "Status ändrad: Inkommen → Under bedömning",
    ]
    assert {row["Gäller"] for row in moves} == {f"Remiss {submission.reference}"}
    views = [row for row in rows if row["Vad"] == "Personens uppgifter visades"]
    assert views and {row["Gäller"] for row in views} == {f"Deltagare {submission.reference}"}
    assert {row["Detaljer"] for row in views} == {"Visades på remissens sida"}
    submitted = next(row for row in rows if row["Vad"] == "Remiss inkom")
    assert submitted["Vem"] == "Remissformuläret"
    for raw in (
        f"participant {participant}",
        "referral ",
        "from:",
        "to:",
        "visit_booked",
        "queued",
    ):
        assert all(raw not in " ".join(row.values()) for row in rows), raw


async def test_staff_who_open_the_log_are_told_why_not_and_shown_the_way_back(
    aiohttp_client, settings, db
) -> None:
    await make_team(db)
    await make_user(db, "coach@example.se")
    client = await aiohttp_client(create_app(settings, database=db))
    await log_in(client, "coach@example.se")
    response = await client.get("/team/logg")
    page = await response.text()
    assert response.status == 403
    assert "Den här sidan är bara för samordnare." in page
    assert '<a href="/team/">Tillbaka till teamets sidor</a>' in page
