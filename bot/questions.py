"""How a survey question looks in Telegram: its text and inline keyboard, and the button data.

Button data (``callback_data``, at most 64 bytes) names the question it belongs to, so a press
on an old message is recognised, and carries what the participant would have typed: a choice is
``a:<question>:<option number>`` (``ja``/``nej``, or the number of a scale), which goes through
:func:`core.surveys.parse_answer` like a typed answer. The other buttons are ``t:<question>:<n>``
(tick an option), ``d:<question>`` (Klar), ``s:`` (skip), ``b:`` (back), ``k:`` (keep the
answer), and ``lang:<code>``, ``later``, ``resume``, ``stop``, ``del:yes`` and ``del:no``.

A keyboard is built as the Bot API's JSON (``{"inline_keyboard": [[{"text", "callback_data"}]]}``),
what python-telegram-bot's ``InlineKeyboardMarkup.to_dict()`` gives, without building PTB's
objects first (measured: they cost more than the rest of rendering a question).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot import texts
from core import survey_flow as flow
from core import surveys as core
from core.translations import language_name

ANSWER, TICK, DONE, SKIP, BACK, KEEP = "a", "t", "d", "s", "b", "k"
LATER, RESUME, STOP, DELETE_YES, DELETE_NO = "later", "resume", "stop", "del:yes", "del:no"
LANGUAGE_PREFIX = "lang:"
MAX_SCALE_ROW = 6


@dataclass(frozen=True)
class Press:
    """A question button pressed: what it does, for which question, with which value."""

    action: str
    qid: str
    value: str = ""

    @classmethod
    def parse(cls, data: str) -> Press:
        """The press that ``data`` describes (made by :func:`button_data`)."""
        action, qid, value = ([*data.split(":", 2), "", ""])[:3]
        return cls(action, qid, value)


def button_data(action: str, qid: str, value: object = "") -> str:
    """The callback data of a question button."""
    return f"{action}:{qid}:{value}" if value != "" else f"{action}:{qid}"


Button = dict[str, str]
Rows = list[list[Button]]
#: An inline keyboard as the Bot API's JSON: ``{"inline_keyboard": rows}``.
Keyboard = dict[str, Any]


def _button(text: str, data: str) -> Button:
    """An inline button with callback data."""
    return {"text": text, "callback_data": data}


def keyboard(rows: Rows) -> Keyboard:
    """The inline keyboard of ``rows``."""
    return {"inline_keyboard": rows}


def language_keyboard(languages: Sequence[str]) -> Keyboard:
    """One button per language, each named in its own language, three to a row."""
    buttons = [_button(language_name(code), LANGUAGE_PREFIX + code) for code in languages]
    return keyboard([buttons[start : start + 3] for start in range(0, len(buttons), 3)])


def one_button(language: str, label: str, data: str) -> Keyboard:
    """A keyboard of one button, such as Fortsätt."""
    return keyboard([[_button(texts.translate(language, label), data)]])


def two_buttons(language: str, first: tuple[str, str], second: tuple[str, str]) -> Keyboard:
    """A keyboard of two buttons, one per row, from (label, data) pairs."""
    t = texts.translate
    return keyboard([[_button(t(language, label), data)] for label, data in (first, second)])


def question_message(language: str, screen: flow.Screen) -> tuple[str, Keyboard]:
    """The text and keyboard that ask the screen's question in ``language``."""
    question = screen.question
    assert question is not None
    number, total = screen.number, screen.total
    lines = [texts.translate(language, texts.QUESTION_NUMBER, number=number, total=total)]
    lines.append(question.text_in(language))
    lines += [question.hint_in(language)] if question.hint else []
    lines += _instructions(language, question, screen.answer)
    rows = _answer_rows(language, question, screen.answer) + _navigation_rows(language, screen)
    return "\n\n".join(line for line in lines if line), keyboard(rows)


def answered_message(language: str, question: core.Question, value: object) -> str:
    """The question with the answer given, for the message whose buttons were pressed."""
    label = core.answer_label(question, value, language) if value is not None else ""
    text = question.text_in(language)
    return f"{text}\n\n✓ {label}" if label else text


def _instructions(language: str, question: core.Question, value: object) -> list[str]:
    """What to do, and the answer given so far when the participant comes back to a question."""
    t = texts.translate
    lines = []
    if question.kind == core.SCALE:
        ends: dict[str, object] = {"min": question.min, "max": question.max}
        ends["min_label"] = question.min_label.get(language) or question.min_label["sv"]
        ends["max_label"] = question.max_label.get(language) or question.max_label["sv"]
        lines.append(t(language, texts.SCALE_ENDS, **ends))
    if question.kind == core.MULTIPLE:
        lines.append(t(language, texts.CHOOSE_MANY))
    elif value is not None:
        label = core.answer_label(question, value, language)
        lines.append(t(language, texts.YOUR_ANSWER, answer=label))
    if question.kind == core.TEXT:
        lines.append(t(language, texts.WRITE_ANSWER if value is None else texts.WRITE_NEW_ANSWER))
    return lines


def _answer_rows(language: str, question: core.Question, value: object) -> Rows:
    """The buttons that answer the question, by its kind (none for free text)."""
    qid = question.id
    if question.kind in (core.SINGLE, core.MULTIPLE):
        return _option_rows(question, language, value)
    if question.kind == core.YESNO:
        yes, no = core.yes_no_labels(language)
        return [
            [
                _button(yes, button_data(ANSWER, qid, "ja")),
                _button(no, button_data(ANSWER, qid, "nej")),
            ]
        ]
    if question.kind == core.SCALE:
        assert question.min is not None and question.max is not None
        values = range(question.min, question.max + 1)
        numbers = [_button(str(n), button_data(ANSWER, qid, n)) for n in values]
        return [numbers[i : i + MAX_SCALE_ROW] for i in range(0, len(numbers), MAX_SCALE_ROW)]
    return []


def _option_rows(question: core.Question, language: str, value: object) -> Rows:
    """One button per option, marked when chosen; a several-choice question ends with Klar."""
    several = question.kind == core.MULTIPLE
    chosen = value if isinstance(value, list) else [value]
    marks = ("☑ ", "☐ ") if several else ("✓ ", "")
    action = TICK if several else ANSWER
    rows = [
        [
            _button(
                marks[o.code not in chosen] + o.text_in(language),
                button_data(action, question.id, n),
            )
        ]
        for n, o in enumerate(question.options, start=1)
    ]
    if several:
        done = "✓ " + texts.translate(language, texts.DONE)
        rows.append([_button(done, button_data(DONE, question.id))])
    return rows


def _navigation_rows(language: str, screen: flow.Screen) -> Rows:
    """Tillbaka, and Hoppa över or Behåll svaret where they apply; then Fortsätt senare."""
    assert screen.question is not None
    qid, t = screen.question.id, texts.translate
    row = []
    if screen.can_go_back:
        row.append(_button(t(language, texts.BACK), button_data(BACK, qid)))
    if screen.can_keep:
        row.append(_button(t(language, texts.KEEP), button_data(KEEP, qid)))
    elif screen.can_skip:
        row.append(_button(t(language, texts.SKIP), button_data(SKIP, qid)))
    later = [_button(t(language, texts.LATER), LATER)]
    return [row, later] if row else [later]
