"""The survey's flow, computed once for the bot and the web page: what an action changes, what shows.

Given where a participant is (a :class:`Position`: the survey, the stored answers, the questions
passed over and the question gone back to) and what they did (an :class:`Action`), :func:`decide`
says what to store (a :class:`Change`), where the cursor goes and whether to tell them personal
details were removed (a :class:`Notice`). :func:`screen_of` then says what to show: the current
question with the answer so far and the ways on (back, skip, keep), or the thanks. The bot and the
web page are two renderings of these; neither decides anything about the flow itself.

Actions: ``answer`` (a value chosen or typed), ``tick`` (one option of a several-choice question
on or off), ``done`` (the ticked options are the answer), ``skip``, ``back``, ``keep`` (leave the
answer as it is and go on) and ``later`` (stop here, the answers are saved).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from core.redact import redact
from core.survey_answers import answer_label, parse_answer, yes_no_labels
from core.survey_model import MULTIPLE, SCALE, TEXT, YESNO, AnswerValue, Question, Survey
from core.surveys import can_skip, check_can_skip, is_complete, next_question, previous_question

ANSWER, TICK, DONE, SKIP, BACK, KEEP, LATER = (
    "answer",
    "tick",
    "done",
    "skip",
    "back",
    "keep",
    "later",
)
ACTIONS = (ANSWER, TICK, DONE, SKIP, BACK, KEEP, LATER)
STORE, PASS_OVER, CLEAR = "store", "pass_over", "clear"


@dataclass(frozen=True)
class Position:
    """Where a participant is, as stored: answers (free text redacted), skips and the cursor."""

    survey: Survey
    answers: Mapping[str, AnswerValue] = field(default_factory=dict)
    skipped: Collection[str] = frozenset()
    redacted: Collection[str] = frozenset()
    cursor: str | None = None
    completed: bool = False
    #: The participant's own names (from their record), removed from free text too.
    names: Sequence[str] = ()

    def current(self) -> Question | None:
        """The question to ask now: the one gone back to, else the first one left."""
        if self.completed:
            return None
        if self.cursor and any(q.id == self.cursor for q in self.survey.questions):
            return self.survey.question(self.cursor)
        return next_question(self.survey, self.answers, self.skipped)


@dataclass(frozen=True)
class Action:
    """What the participant did to question ``qid``; ``value`` is what they chose or typed.

    ``confirm_redacted`` (the web page): after an answer had personal details removed, stay on
    the question, so the participant sees the answer as stored before going on.
    """

    kind: str
    qid: str
    value: str | Sequence[str] = ""
    confirm_redacted: bool = False


@dataclass(frozen=True)
class Change:
    """What to store for question ``qid``: ``store`` a value, ``pass_over`` it, or ``clear`` it."""

    kind: str
    qid: str
    value: AnswerValue | None = None
    redacted: bool = False


@dataclass(frozen=True)
class Notice:
    """Personal details were removed from the answer to ``qid``; ``text`` is what was stored."""

    qid: str
    text: str
    removed: frozenset[str]


@dataclass(frozen=True)
class Outcome:
    """What an action does: the change to store, the new cursor, and what to tell.

    ``stale`` means the action was for another question than the current one (an old button or
    form): nothing changes. ``moved`` is False when the cursor stays where it was.
    """

    change: Change | None = None
    cursor: str | None = None
    moved: bool = False
    notice: Notice | None = None
    stale: bool = False
    later: bool = False


@dataclass(frozen=True)
class Screen:
    """What to show: ``question`` (None: the thanks) with its number, the answer so far and the
    ways on; ``notice`` when the last answer had personal details removed."""

    question: Question | None
    number: int
    total: int
    answer: AnswerValue | None = None
    answer_redacted: bool = False
    can_go_back: bool = False
    can_skip: bool = False
    can_keep: bool = False
    notice: Notice | None = None

    @property
    def finished(self) -> bool:
        """Nothing is left to ask: show the thanks."""
        return self.question is None


def decide(position: Position, action: Action) -> Outcome:
    """What ``action`` changes; raises a DomainError (wrong answer, a required skip) to show."""
    question = position.current()
    if question is None or question.id != action.qid or action.kind not in ACTIONS:
        return Outcome(stale=True)
    if action.kind == LATER:
        return Outcome(later=True)
    if action.kind == BACK:
        previous = previous_question(position.survey, question.id)
        return Outcome(cursor=previous.id, moved=True) if previous else Outcome()
    if action.kind == SKIP:
        check_can_skip(question)
        return Outcome(Change(PASS_OVER, question.id), moved=True)
    if action.kind == TICK:
        return Outcome(toggle_change(position, question, action.value), question.id, moved=True)
    if action.kind == DONE:
        ticked = position.answers.get(question.id)
        parse_answer(question, ticked if isinstance(ticked, list) else [])  # at least one
        return Outcome(moved=True)
    if action.kind == KEEP:
        return Outcome(moved=True)
    return _answered(position, question, action)


def _answered(position: Position, question: Question, action: Action) -> Outcome:
    """An answer: parsed, free text redacted; stay on the question when the web confirms it."""
    change, notice = answer_change(position, question, parse_answer(question, action.value))
    stay = notice is not None and action.confirm_redacted
    return Outcome(change, question.id if stay else None, moved=True, notice=notice)


def answer_change(
    position: Position, question: Question, value: AnswerValue
) -> tuple[Change, Notice | None]:
    """The change that stores a parsed ``value``: free text with personal details removed."""
    if question.kind != TEXT:
        return Change(STORE, question.id, value), None
    cleaned = redact(str(value), names=position.names)
    # The text stored after an earlier redaction, sent again unchanged, stays marked redacted.
    stored_again = position.answers.get(question.id) == cleaned.text
    redacted = bool(cleaned.removed) or (question.id in position.redacted and stored_again)
    notice = Notice(question.id, cleaned.text, cleaned.removed) if cleaned.removed else None
    return Change(STORE, question.id, cleaned.text, redacted), notice


def toggle_change(position: Position, question: Question, raw: str | Sequence[str]) -> Change:
    """Tick or untick one option: the choices ticked now, in option order (none: cleared)."""
    parsed = parse_answer(question, raw)
    assert isinstance(parsed, list)
    chosen = position.answers.get(question.id)
    ticked = (set(chosen) if isinstance(chosen, list) else set()) ^ {parsed[0]}
    choices = [option.code for option in question.options if option.code in ticked]
    return Change(STORE, question.id, choices) if choices else Change(CLEAR, question.id)


def apply(position: Position, outcome: Outcome) -> Position:
    """The position after ``outcome`` is stored (what storage does, in memory)."""
    answers, skipped = dict(position.answers), set(position.skipped)
    redacted = set(position.redacted)
    change = outcome.change
    if change is not None:
        answers.pop(change.qid, None)
        skipped.discard(change.qid)
        redacted.discard(change.qid)
        if change.kind == STORE and change.value is not None:
            answers[change.qid] = change.value
            redacted |= {change.qid} if change.redacted else set()
        elif change.kind == PASS_OVER:
            skipped.add(change.qid)
    cursor = outcome.cursor if outcome.moved else position.cursor
    return replace(position, answers=answers, skipped=skipped, redacted=redacted, cursor=cursor)


def screen_of(position: Position, notice: Notice | None = None) -> Screen:
    """What to show at ``position``: the current question, or the thanks."""
    survey, question = position.survey, position.current()
    total = len(survey.questions)
    if question is None:
        return Screen(None, total, total, notice=notice)
    answer = position.answers.get(question.id)
    return Screen(
        question,
        survey.index(question.id) + 1,
        total,
        answer=answer,
        answer_redacted=question.id in position.redacted,
        can_go_back=previous_question(survey, question.id) is not None,
        can_skip=can_skip(question),
        can_keep=answer is not None and question.kind != MULTIPLE,
        notice=notice,
    )


def should_complete(position: Position) -> bool:
    """Whether the response is to be marked complete now: nothing left and all required answered."""
    return (
        not position.completed
        and position.current() is None
        and is_complete(position.survey, position.answers)
    )


def choices(question: Question, language: str) -> list[tuple[str, str]]:
    """(value, label) of each choice: option codes, yes and no, or the numbers of a scale."""
    if question.kind == YESNO:
        return list(zip(("ja", "nej"), yes_no_labels(language), strict=True))
    if question.kind == SCALE:
        assert question.min is not None and question.max is not None
        numbers = range(question.min, question.max + 1)
        return [(str(n), answer_label(question, n, language)) for n in numbers]
    return [(option.code, option.text_in(language)) for option in question.options]


def answer_so_far(question: Question, value: AnswerValue | None) -> list[str]:
    """The stored answer as form values: option codes, ``ja``/``nej``, a number or the text."""
    if isinstance(value, list):
        return [str(code) for code in value]
    if isinstance(value, bool):
        return ["ja" if value else "nej"]
    return [] if value is None else [str(value)]
