"""The audit log's readable names: every action written anywhere in the code has one."""

from __future__ import annotations

import ast
from pathlib import Path

from core.translations import translate_to
from intake.audit_log import ACTION_LABELS, action_label

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


def _action_of(call: ast.Call, where: str) -> str:
    """The action a call of ``audit.record`` writes; it must be a string literal."""
    sent = call.args[1] if len(call.args) > 1 else None
    sent = sent or next((k.value for k in call.keywords if k.arg == "action"), None)
    assert isinstance(sent, ast.Constant) and isinstance(sent.value, str), (
        f"{where}: write the audit action as a string literal, so its label can be checked"
    )
    return sent.value


def written_actions() -> dict[str, str]:
    """Every action that the code passes to ``audit.record``, with where it is written."""
    found: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _is_audit_record(node):
                    where = f"{path.relative_to(ROOT)}:{node.lineno}"
                    found.setdefault(_action_of(node, where), where)
    return found


def test_the_scan_finds_actions_written_in_every_layer() -> None:
    written = written_actions()
    expected = {
        "referral.submitted",
        "keys.rotated",
        "survey.answers_deleted",
        "summary.exported",
        "answer.themes_corrected",
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
