"""The participant survey (*enkät*): the front door, and where a participant is in it.

This module is what the bot, the web page and the reports import. It re-exports the model
(:mod:`core.survey_model`), reading survey files (:mod:`core.survey_files`) and answer checks
(:mod:`core.survey_answers`), and decides where to go from the stored answers alone
(:func:`next_question`), so nothing about a participant lives in memory.

Stored answer values (:data:`AnswerValue`): ``single`` an option code, ``multiple`` a list of codes
in option order, ``scale`` an int, ``text`` a str, ``yesno`` a bool.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from core.errors import NotAllowed
from core.i18n import N_
from core.survey_answers import AnswerError, answer_label, parse_answer, yes_no_labels
from core.survey_files import (
    SurveyFileError,
    default_survey_path,
    load_default_survey,
    load_survey,
    load_team_survey,
    survey_file_names,
    survey_file_path,
    survey_from_dict,
    validate_team_survey,
)
from core.survey_model import (
    CLOSER_OPTIONS,
    CLOSER_TO_WORK,
    DEFAULT_MAX_LENGTH,
    FREE_TEXT_QUESTIONS,
    GOOD_HEALTH,
    HEALTH_OPTIONS,
    KINDS,
    MULTIPLE,
    Q_ACTIVITIES,
    Q_BETTER,
    Q_CLOSER,
    Q_HEALTH,
    Q_QUOTE,
    Q_USEFUL,
    SCALE,
    SINGLE,
    TEXT,
    YESNO,
    AnswerValue,
    Option,
    Question,
    Survey,
    Texts,
)

__all__ = [
    "CLOSER_OPTIONS",
    "CLOSER_TO_WORK",
    "DEFAULT_MAX_LENGTH",
    "FREE_TEXT_QUESTIONS",
    "GOOD_HEALTH",
    "HEALTH_OPTIONS",
    "KINDS",
    "MULTIPLE",
    "Q_ACTIVITIES",
    "Q_BETTER",
    "Q_CLOSER",
    "Q_HEALTH",
    "Q_QUOTE",
    "Q_USEFUL",
    "SCALE",
    "SINGLE",
    "TEXT",
    "YESNO",
    "AnswerError",
    "AnswerValue",
    "Option",
    "Question",
    "Survey",
    "SurveyFileError",
    "Texts",
    "answer_label",
    "can_skip",
    "check_can_skip",
    "default_survey_path",
    "is_complete",
    "load_default_survey",
    "load_survey",
    "load_team_survey",
    "next_question",
    "parse_answer",
    "previous_question",
    "progress",
    "survey_file_names",
    "survey_file_path",
    "survey_from_dict",
    "validate_team_survey",
    "yes_no_labels",
]

# --- Navigation: everything derived from the stored answers ----------------------------------


def _is_answered(answered: Mapping[str, object], qid: str) -> bool:
    """Whether ``qid`` has a stored value (None does not count)."""
    return answered.get(qid) is not None


def _is_done(question: Question, answered: Mapping[str, object], skipped: Collection[str]) -> bool:
    """Answered, or skipped when skipping is allowed."""
    passed_over = question.id in skipped and can_skip(question)
    return passed_over or _is_answered(answered, question.id)


def next_question(
    survey: Survey, answered: Mapping[str, object], skipped: Collection[str] = ()
) -> Question | None:
    """The first question neither answered nor skipped; None when there is nothing left to ask.

    ``answered`` maps question id to stored value (None counts as unanswered); ``skipped`` holds
    ids the participant passed over. A required question is asked even when listed as skipped.
    """
    return next((q for q in survey.questions if not _is_done(q, answered, skipped)), None)


def previous_question(survey: Survey, qid: str) -> Question | None:
    """The question before ``qid`` (to go back to), or None for the first question."""
    position = survey.index(qid)
    return survey.questions[position - 1] if position > 0 else None


def can_skip(question: Question) -> bool:
    """Whether the participant may pass over ``question``: only optional questions."""
    return not question.required


def check_can_skip(question: Question) -> None:
    """Raise :class:`NotAllowed` with a message for the participant if ``question`` is required."""
    if not can_skip(question):
        message = N_("Den här frågan behöver ett svar. Du kan också sluta nu och fortsätta senare.")
        raise NotAllowed(message, field=question.id)


def is_complete(survey: Survey, answered: Mapping[str, object]) -> bool:
    """Whether every required question has an answer."""
    return all(_is_answered(answered, q.id) for q in survey.questions if q.required)


def progress(
    survey: Survey, answered: Mapping[str, object], skipped: Collection[str] = ()
) -> tuple[int, int]:
    """(questions answered or skipped, questions in the survey), e.g. for "3 of 6"."""
    done = sum(1 for q in survey.questions if _is_done(q, answered, skipped))
    return done, len(survey.questions)
