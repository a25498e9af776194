"""The survey in Telegram, end to end: the bot runs in the app, talking to the Bot API test server.

These run in webhook mode, where the app handles an update before answering the webhook, so each
step's replies are known exactly. tests/bot/test_durability.py covers polling, restarts and
several processes.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Connection, Engine, event, select

from core import surveys as core
from core.translations import translate_to
from storage.db import Database
from storage.models import Answer, AnswerTheme, Invitation, Response
from tests.bot.conftest import Person, bot_settings, buttons, new_token, serving, webhook_url
from tests.common.surveys import statements_run
from tests.fakes.telegram_api import FakeBotApi

SURVEY = core.load_default_survey()


def question_text(qid: str, language: str = "sv") -> str:
    return SURVEY.question(qid).text_in(language)


@pytest.fixture
async def person(api: FakeBotApi, settings, db: Database) -> AsyncIterator[Person]:  # type: ignore[no-untyped-def]
    """A Swedish-speaking participant; the app serves the bot in webhook mode."""
    async with serving(bot_settings(settings, api, mode="webhook"), db) as server:
        yield Person(api, webhooks=[webhook_url(server)])


async def stored_answers(db: Database) -> dict[str, tuple[object, str | None, bool]]:
    """Question id → (value, text, skipped) of every stored answer."""
    async with db.sessions() as session:
        answers = await session.scalars(select(Answer))
        return {a.question_id: (a.value, a.text, a.skipped) for a in answers}


async def the_response(db: Database) -> Response | None:
    async with db.sessions() as session:
        return await session.scalar(select(Response))


async def start_in_swedish(person: Person, db: Database) -> None:
    """/start with a fresh token, then Svenska: ends at the first question."""
    await person.write(f"/start {await new_token(db)}")
    await person.press("Svenska", expect=2)


async def test_a_whole_survey_in_swedish(person: Person, db: Database) -> None:
    [greeting] = await person.write(f"/start {await new_token(db)}")
    assert "frivilligt" in greeting.text
    assert [label for label, _ in buttons(greeting)] == [
        "Svenska",
        "English",
        "العربية",
        "Soomaali",
        "ትግርኛ",
    ]

    # The greeting becomes the introduction (its language buttons gone); the first question
    # is a new message.
    intro, first = await person.press("Svenska", expect=2)
    assert (intro.method, intro.message_id) == ("editMessageText", greeting.message_id)
    assert intro.reply_markup is None and intro.text == SURVEY.intro_in("sv")
    assert "Fråga 1 av 6" in first.text and question_text(core.Q_ACTIVITIES) in first.text

    [ticked] = await person.press("☐ Träning/gym", expect=1)
    assert ("☑ Träning/gym", "t:aktiviteter:3") in buttons(ticked)
    await person.press("☐ Enskilda samtal", expect=1)
    # The pressed message becomes the next question, the answer given confirmed above it.
    [second] = await person.press("✓ Klar")
    assert (second.method, second.message_id) == ("editMessageText", first.message_id)
    answered, asked = second.text.split("\n\nFråga 2 av 6\n\n")
    assert answered == question_text(core.Q_ACTIVITIES) + "\n\n✓ Enskilda samtal, Träning/gym"
    assert asked.startswith(question_text(core.Q_USEFUL))

    [third] = await person.write("Samtalen med min coach och träningen på gymmet")
    assert question_text(core.Q_CLOSER) in third.text
    await person.press("Ja, lite")
    await person.press("Bra")
    [sixth] = await person.write("Fler grupper på kvällen")
    assert question_text(core.Q_QUOTE) in sixth.text
    [thanks] = await person.press("Ja")
    assert thanks.text == question_text(core.Q_QUOTE) + "\n\n✓ Ja\n\n" + SURVEY.thanks_in("sv")
    assert thanks.method == "editMessageText" and thanks.reply_markup is None

    assert await stored_answers(db) == {
        core.Q_ACTIVITIES: (["enskilda_samtal", "traning"], None, False),
        core.Q_USEFUL: (None, "Samtalen med min coach och träningen på gymmet", False),
        core.Q_CLOSER: ("ja_lite", None, False),
        core.Q_HEALTH: ("bra", None, False),
        core.Q_BETTER: (None, "Fler grupper på kvällen", False),
        core.Q_QUOTE: (True, None, False),
    }
    response = await the_response(db)
    assert response.completed_at is not None and response.quote_allowed is True
    assert (response.language, response.channel) == ("sv", "telegram")
    async with db.sessions() as session:
        themes = set((await session.scalars(select(AnswerTheme.theme))).all())
    assert {"samtal", "motion"} <= themes


async def test_a_whole_survey_in_arabic(api: FakeBotApi, person: Person, db: Database) -> None:
    person.language_code = "ar"
    [greeting] = await person.write(f"/start {await new_token(db)}")
    assert "اختيارية" in greeting.text

    intro, first = await person.press("العربية", expect=2)
    assert intro.text == SURVEY.intro_in("ar")
    assert "السؤال 1 من 6" in first.text and question_text(core.Q_ACTIVITIES, "ar") in first.text
    await person.press("☐ الرياضة أو النادي الرياضي", expect=1)
    await person.press("✓ تم")
    await person.write("المجموعات ساعدتني كثيرًا")
    [fourth] = await person.write("2")  # typed: the number of "نعم، قليلًا"
    assert question_text(core.Q_HEALTH, "ar") in fourth.text
    await person.press("جيدة")
    [sixth] = await person.press("تخطٍّ")
    assert question_text(core.Q_QUOTE, "ar") in sixth.text
    [thanks] = await person.press("لا")

    assert thanks.text.endswith(SURVEY.thanks_in("ar"))
    assert await stored_answers(db) == {
        core.Q_ACTIVITIES: (["traning"], None, False),
        core.Q_USEFUL: (None, "المجموعات ساعدتني كثيرًا", False),
        core.Q_CLOSER: ("ja_lite", None, False),
        core.Q_HEALTH: ("bra", None, False),
        core.Q_BETTER: (None, None, True),
        core.Q_QUOTE: (False, None, False),
    }
    response = await the_response(db)
    assert (response.language, response.quote_allowed) == ("ar", False)


@pytest.mark.parametrize(
    ("language", "button", "closer", "health", "no"),
    [
        ("so", "Soomaali", "Haa, in yar", "Wanaagsan", "Maya"),
        ("ti", "ትግርኛ", "እወ፣ ቁሩብ", "ጽቡቕ", "ኣይፋልን"),
    ],
)
async def test_a_whole_survey_in_somali_and_in_tigrinya(
    person: Person, db: Database, language: str, button: str, closer: str, health: str, no: str
) -> None:
    [greeting] = await person.write(f"/start {await new_token(db)}")
    assert button in [label for label, _ in buttons(greeting)]

    intro, first = await person.press(button, expect=2)
    assert intro.text == SURVEY.intro_in(language) != SURVEY.intro_in("sv")
    number = translate_to(language, "Fråga {number} av {total}").format(number=1, total=6)
    assert number in first.text and question_text(core.Q_ACTIVITIES, language) in first.text
    exercise = SURVEY.question(core.Q_ACTIVITIES).option("traning")
    assert exercise is not None
    await person.press("☐ " + exercise.text_in(language), expect=1)
    await person.press("✓ " + translate_to(language, "Klar"))
    [third] = await person.write("Kooxda / ጉጅለ")
    assert question_text(core.Q_CLOSER, language) in third.text
    await person.press(closer)
    await person.press(health)
    [sixth] = await person.press(translate_to(language, "Hoppa över"))
    assert question_text(core.Q_QUOTE, language) in sixth.text
    [thanks] = await person.press(no)

    assert thanks.text.endswith(SURVEY.thanks_in(language))
    answers = await stored_answers(db)
    assert answers[core.Q_CLOSER][0] == "ja_lite" and answers[core.Q_HEALTH][0] == "bra"
    assert answers[core.Q_QUOTE][0] is False
    response = await the_response(db)
    assert (response.language, response.quote_allowed) == (language, False)


async def test_back_shows_the_answer_given_and_answering_again_goes_on(
    person: Person, db: Database
) -> None:
    await start_in_swedish(person, db)
    await person.press("☐ Träning/gym", expect=1)
    await person.press("✓ Klar")
    await person.write("Gymmet")

    [again] = await person.press("Tillbaka")
    assert again.method == "editMessageText" and again.text.startswith("Fråga 2 av 6")
    assert question_text(core.Q_USEFUL) in again.text and "Ditt svar nu: Gymmet" in again.text
    [first] = await person.press("Tillbaka")
    assert ("☑ Träning/gym", "t:aktiviteter:3") in buttons(first)
    await person.press("☐ Annat", expect=1)
    [next_open] = await person.press("✓ Klar")

    assert question_text(core.Q_CLOSER) in next_open.text
    assert (await stored_answers(db))[core.Q_ACTIVITIES] == (["traning", "annat"], None, False)


async def test_keep_leaves_an_answer_as_it_was(person: Person, db: Database) -> None:
    await start_in_swedish(person, db)
    await person.write("3")  # typed choice: Träning/gym
    await person.write("Gymmet")
    await person.press("Tillbaka")

    [next_open] = await person.press("Behåll svaret")

    assert question_text(core.Q_CLOSER) in next_open.text
    assert (await stored_answers(db))[core.Q_USEFUL] == (None, "Gymmet", False)


async def test_only_optional_questions_have_a_skip_button(person: Person, db: Database) -> None:
    await start_in_swedish(person, db)
    first = person.messages[-1]

    assert [label for label, _ in buttons(first)][-1] == "Fortsätt senare"
    assert "Hoppa över" not in [label for label, _ in buttons(first)]


async def test_a_wrong_typed_answer_is_explained_and_the_question_stays(
    person: Person, db: Database
) -> None:
    await start_in_swedish(person, db)

    [explained] = await person.write("kanske")

    assert explained.text.startswith("Välj ett eller flera av alternativen")
    assert await stored_answers(db) == {}


async def test_personal_details_are_removed_and_the_participant_is_told_why(
    person: Person, db: Database
) -> None:
    await start_in_swedish(person, db)
    await person.write("3")

    notice, _ = await person.write("Ring mig på 070-123 45 67 eller anna.svensson@example.se", 2)

    assert "telefonnummer" in notice.text and "e-postadress" in notice.text
    assert "070-123" not in notice.text and "example.se" not in notice.text
    _, text, _ = (await stored_answers(db))[core.Q_USEFUL]
    assert text in notice.text and "070" not in text


async def test_a_button_of_an_earlier_question_changes_nothing(
    api: FakeBotApi, person: Person, db: Database
) -> None:
    await start_in_swedish(person, db)
    await person.write("3")  # typed, so the buttons of question 1 are still there

    [unbuttoned] = await person.press("☐ Annat", expect=1)

    assert unbuttoned.reply_markup is None
    assert list(api.callback_answers.values())[-1] == (
        "Den frågan är redan besvarad. Svara på den senaste frågan."
    )
    assert (await stored_answers(db))[core.Q_ACTIVITIES] == (["traning"], None, False)


async def test_stop_ends_reminders_but_not_the_survey(person: Person, db: Database) -> None:
    await start_in_swedish(person, db)

    [reply] = await person.write("/stopp")

    assert "inga fler påminnelser" in reply.text
    async with db.sessions() as session:
        assert (await session.scalar(select(Invitation))).reminders_stopped
    [again] = await person.write("3")
    assert question_text(core.Q_USEFUL) in again.text


async def test_delete_asks_first_and_deletes_the_answers(person: Person, db: Database) -> None:
    await start_in_swedish(person, db)
    await person.write("3")

    [question] = await person.write("/radera")
    assert "Det går inte att ångra" in question.text
    [done] = await person.press("Ja, ta bort mina svar", expect=1)

    assert done.text.startswith("Dina svar är borttagna") and done.reply_markup is None
    assert await stored_answers(db) == {} and await the_response(db) is None
    [greeting] = await person.write("/start")
    assert "Vilket språk" in greeting.text


async def test_delete_can_be_cancelled(person: Person, db: Database) -> None:
    await start_in_swedish(person, db)
    await person.write("3")
    await person.write("/radera")

    [kept] = await person.press("Nej, behåll dem", expect=1)

    assert kept.text == "Dina svar finns kvar."
    assert (await stored_answers(db))[core.Q_ACTIVITIES] == (["traning"], None, False)


async def test_help_lists_the_commands(person: Person) -> None:
    [reply] = await person.write("/hjalp")

    assert all(command in reply.text for command in ("/stopp", "/radera", "/start"))


async def test_without_an_invitation_the_bot_asks_for_the_link(person: Person) -> None:
    [reply] = await person.write("Hej")

    assert "öppna länken" in reply.text


async def test_a_second_chat_with_the_same_link_is_refused_politely(
    api: FakeBotApi, person: Person, db: Database
) -> None:
    token = await new_token(db)
    await person.write(f"/start {token}")
    other = Person(api, 777, webhooks=[person_webhook(person)])

    [refusal] = await other.write(f"/start {token}")

    assert refusal.text.startswith("Den här länken används redan i en annan chatt")
    async with db.sessions() as session:
        assert (await session.scalar(select(Invitation))).telegram_chat_id == person.chat_id


async def test_a_mistyped_link_is_explained(person: Person) -> None:
    [reply] = await person.write("/start " + "x" * 32)

    assert reply.text.startswith("Länken fungerar inte")


def person_webhook(person: Person) -> str:
    return next(person._webhooks)  # type: ignore[arg-type]


async def test_a_button_answer_is_one_transaction_in_one_thread_and_one_bot_api_call(
    api: FakeBotApi, person: Person, db: Database
) -> None:
    await start_in_swedish(person, db)
    await person.write("3")
    await person.write("Gymmet")
    calls, replies = Counter(api.calls), Counter(api.webhook_replies)

    with statements_run(db) as seen, transactions_run(db) as transactions:
        [fourth] = await person.press("Ja, lite")

    if db.dialect == "postgresql":
        assert seen == [
            "WITH INSERT processed_updates",  # … then SELECT the chat's invitation FOR UPDATE
            "SELECT responses",
            "INSERT answers",
            "UPDATE responses",
        ]
    else:
        assert seen == [  # the write lock is the transaction's: the state read in one SELECT
            "INSERT processed_updates",
            "SELECT invitations",
            "INSERT answers",
            "UPDATE responses",
        ]
    # One transaction, run as synchronous code (on SQLite in one worker thread, not aiosqlite's
    # thread hop per statement).
    driver = "pysqlite" if db.dialect == "sqlite" else "asyncpg"
    [(run_by, threads)] = transactions
    assert run_by == driver
    assert len(threads) == 1 and (db.dialect != "sqlite" or threading.get_ident() not in threads)
    # The pressed message becomes the next question: one call, the button answered in the reply.
    assert question_text(core.Q_CLOSER) in fourth.text and "✓ Ja, lite" in fourth.text
    assert question_text(core.Q_HEALTH) in fourth.text
    assert api.calls - calls == Counter({"editMessageText": 1})
    assert api.webhook_replies - replies == Counter({"answerCallbackQuery": 1})
    assert api.webhook_reply_errors == []


@contextlib.contextmanager
def transactions_run(db: Database) -> Iterator[list[tuple[str, set[int]]]]:
    """Each transaction committed in the block: its driver and the threads of its statements."""
    runs: list[tuple[str, set[int]]] = []
    threads: set[int] = set()

    def statement(*_args: object) -> None:
        threads.add(threading.get_ident())

    def commit(connection: Connection) -> None:
        runs.append((connection.engine.dialect.driver, set(threads)))
        threads.clear()

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Engine, "commit", commit)
    try:
        yield runs
    finally:
        event.remove(Engine, "before_cursor_execute", statement)
        event.remove(Engine, "commit", commit)


@pytest.mark.parametrize(
    ("status", "description"),
    [(400, "Bad Request: message to edit not found"), (502, "Bad Gateway")],
)
async def test_when_rewriting_the_answered_question_fails_the_next_is_still_sent(
    person: Person, api: FakeBotApi, db: Database, status: int, description: str
) -> None:
    await start_in_swedish(person, db)
    await person.press("☐ Social samvaro", expect=1)
    api.fail_next("editMessageText", status, description)

    [next_question] = await person.press("✓ Klar", expect=1)

    assert question_text(core.Q_USEFUL) in next_question.text
    assert await stored_answers(db) == {core.Q_ACTIVITIES: (["social_samvaro"], None, False)}
