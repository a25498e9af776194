"""``samverkan check-survey``: what a survey file holds, and which languages await review."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from app.commands import check_survey
from app.settings import Settings
from core.surveys import SurveyFileError, load_default_survey

DATA = Path(__file__).resolve().parents[1] / "core" / "data"


def test_the_default_survey_lists_somali_and_tigrinya_as_awaiting_review(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_survey.run(argparse.Namespace(file=None), settings) == 0

    assert capsys.readouterr().out.splitlines() == [
        "default, version 2026-2: 6 frågor",
        "språk: sv, en, ar, so, ti",
        "väntar på granskning av en modersmålstalare: so (Soomaali), ti (ትግርኛ)",
    ]


def test_a_file_named_in_the_surveys_folder_is_found(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert check_survey.run(argparse.Namespace(file="default.yaml"), settings) == 0

    assert capsys.readouterr().out.startswith("default, version 2026-2")


def test_a_survey_without_the_marker_awaits_no_review() -> None:
    reviewed = dataclasses.replace(load_default_survey(), review_needed=())

    assert "granskning" not in "\n".join(check_survey.describe(reviewed))


def test_a_broken_file_is_refused_with_its_reason(settings: Settings) -> None:
    with pytest.raises(SurveyFileError, match="survey_required_yesno.yaml"):
        check_survey.run(
            argparse.Namespace(file=str(DATA / "survey_required_yesno.yaml")), settings
        )
