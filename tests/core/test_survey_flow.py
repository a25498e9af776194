"""The survey's flow, one for the bot and the web: what each action changes and what shows next."""

import pytest

from core import survey_flow as flow
from core import surveys as core
from core.errors import NotAllowed
from core.survey_answers import AnswerError

SURVEY = core.load_default_survey()


def at(**answers: core.AnswerValue) -> flow.Position:
    return flow.Position(SURVEY, answers)


def test_the_first_screen_asks_the_first_question_without_a_way_back() -> None:
    screen = flow.screen_of(at())

    assert (screen.question.id, screen.number, screen.total) == (core.Q_ACTIVITIES, 1, 6)
    assert (screen.can_go_back, screen.can_skip, screen.answer) == (False, False, None)


def test_an_answer_is_stored_and_the_next_question_follows() -> None:
    outcome = flow.decide(at(), flow.Action(flow.ANSWER, core.Q_ACTIVITIES, ["social_samvaro"]))

    assert outcome.change == flow.Change(flow.STORE, core.Q_ACTIVITIES, ["social_samvaro"])
    assert flow.screen_of(flow.apply(at(), outcome)).question.id == core.Q_USEFUL


def test_ticking_twice_unticks_and_the_question_stays() -> None:
    position = at()
    for code in ("1", "2", "1"):
        outcome = flow.decide(position, flow.Action(flow.TICK, core.Q_ACTIVITIES, code))
        position = flow.apply(position, outcome)

    first, second = SURVEY.question(core.Q_ACTIVITIES).options[:2]
    assert position.answers == {core.Q_ACTIVITIES: [second.code]}
    assert flow.screen_of(position).question.id == core.Q_ACTIVITIES


def test_done_without_a_tick_is_refused() -> None:
    with pytest.raises(AnswerError):
        flow.decide(at(), flow.Action(flow.DONE, core.Q_ACTIVITIES))


def test_going_back_shows_the_answer_given_and_keeping_it_goes_on() -> None:
    answered = at(aktiviteter=["social_samvaro"], nytta="Bra")
    back = flow.apply(answered, flow.decide(answered, flow.Action(flow.BACK, core.Q_CLOSER)))
    screen = flow.screen_of(back)
    kept = flow.apply(back, flow.decide(back, flow.Action(flow.KEEP, core.Q_USEFUL)))

    assert (screen.question.id, screen.answer, screen.can_keep) == (core.Q_USEFUL, "Bra", True)
    assert flow.screen_of(kept).question.id == core.Q_CLOSER


def test_a_required_question_cannot_be_skipped_an_optional_one_can() -> None:
    before_better = at(aktiviteter=["social_samvaro"], nytta="Bra", narmare_arbete="ja_lite")
    before_better = flow.apply(
        before_better, flow.Outcome(flow.Change(flow.STORE, core.Q_HEALTH, "bra"))
    )
    skipped = flow.apply(
        before_better, flow.decide(before_better, flow.Action(flow.SKIP, core.Q_BETTER))
    )

    with pytest.raises(NotAllowed):
        flow.decide(at(), flow.Action(flow.SKIP, core.Q_ACTIVITIES))
    assert core.Q_BETTER in skipped.skipped
    assert flow.screen_of(skipped).question.id == core.Q_QUOTE


def test_free_text_with_a_phone_number_is_redacted_with_a_notice() -> None:
    position = at(aktiviteter=["social_samvaro"])
    action = flow.Action(flow.ANSWER, core.Q_USEFUL, "Bra stöd. Ring 070-123 45 67")

    outcome = flow.decide(position, action)
    confirming = flow.decide(position, flow.Action(**{**action.__dict__, "confirm_redacted": True}))

    assert outcome.notice is not None and outcome.notice.removed == {"phone"}
    assert "070" not in outcome.notice.text and outcome.change.redacted
    assert outcome.cursor is None and confirming.cursor == core.Q_USEFUL


def test_an_action_for_another_question_is_stale_and_changes_nothing() -> None:
    outcome = flow.decide(at(), flow.Action(flow.ANSWER, core.Q_HEALTH, "bra"))

    assert outcome == flow.Outcome(stale=True)


def test_later_changes_nothing() -> None:
    assert flow.decide(at(), flow.Action(flow.LATER, core.Q_ACTIVITIES)) == flow.Outcome(later=True)


def test_when_every_question_is_done_the_thanks_show_and_the_response_completes() -> None:
    done = at(
        aktiviteter=["social_samvaro"],
        nytta="Bra",
        narmare_arbete="ja_lite",
        halsa="bra",
        battre="Inget",
        citat=True,
    )

    assert flow.screen_of(done).finished and flow.should_complete(done)
    assert not flow.should_complete(flow.Position(SURVEY, done.answers, completed=True))
