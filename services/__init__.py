"""The operations people perform, one function each: the use-case layer.

Each operation (``submit_referral``, ``decline_referral``, ``enrol_participant``,
``answer_question``, ``invite_participant``, ``create_team``, ``deactivate_user`` …) is an
``async def`` with a verb-noun name that, in **one transaction**:

1. checks the permission of whoever acts (a :class:`core.access.Staff`, the public form, a
   participant's invitation token, or the command line);
2. checks the rule in :mod:`core` (raising a :class:`core.errors.DomainError` that carries
   the user's message);
3. writes through :mod:`storage` (models and queries);
4. appends the audit entry (:func:`storage.audit.record`, ids and codes only);
5. queues its e-mail in the outbox (:func:`services.mail.queue_mail`), which a job sends
   after the commit, with retries.

Web views (:mod:`intake`) and bot handlers (:mod:`bot`) parse their input, call one
operation and render its result; they never import SQLAlchemy or write the audit log.
This package may import :mod:`core`, :mod:`storage` and :mod:`reports`; nothing here
imports :mod:`intake`, :mod:`bot` or :mod:`app`.
"""
