"""The Telegram bot: the survey conversation and its reminders; all state lives in the database.

``handlers.register`` wires the conversation's steps into python-telegram-bot;
:mod:`bot.conversation` hands each update to :mod:`services.survey_chat` (one transaction) and
sends what it shows, one Bot API call per answer; :mod:`bot.questions` draws a question as a
message with buttons; :mod:`bot.webhook_reply` answers a pressed button in the webhook's HTTP
reply; :mod:`bot.http` is PTB's request layer on aiohttp; :mod:`bot.reminders` is the scheduled
reminder job.
"""
