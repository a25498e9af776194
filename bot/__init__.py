"""The Telegram bot: the survey conversation and its reminders; all state lives in the database.

``handlers.register`` wires the steps (:mod:`bot.steps`) into python-telegram-bot;
:mod:`bot.conversation` runs each update in one transaction; :mod:`bot.questions` draws a
question as a message with buttons; :mod:`bot.reminders` is the scheduled reminder job.
"""
