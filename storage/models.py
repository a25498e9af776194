"""The database model of the whole domain (SQLAlchemy 2, typed).

Personal data — names, personnummer, contact details, free text — is stored in
:class:`~storage.types.EncryptedText` columns; ``*_hash`` columns hold keyed hashes for
exact-match lookups. Codes are those of :mod:`core.codes`. Statistics read only dates and
codes, so a purge can remove the personal data and keep the counts.

Vocabulary: a *referral* (remiss, intresseanmälan) is one case from receipt to end; a
*participant* (deltagare) is the person it is about; *prövotid* is the trial period.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from core.clock import utcnow
from storage.types import EncryptedText, UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with constraint names that migrations can refer to."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


def _fk(target: str, *, nullable: bool = False, ondelete: str | None = None) -> Any:
    return mapped_column(ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True)


class Team(Base):
    """A team of the förbund, with its own settings for statistics and the survey."""

    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    forbund: Mapped[str] = mapped_column(String(200), default="")
    trial_months: Mapped[int] = mapped_column(Integer, default=3)
    result_reasons: Mapped[list[Any]] = mapped_column(
        default=lambda: ["arbete", "studier", "annan_rehab"]
    )
    goals: Mapped[list[Any]] = mapped_column(default=list)
    survey_file: Mapped[str | None] = mapped_column(String(300))
    #: Addresses told of each new referral (besides the team's coordinators).
    notify_emails: Mapped[list[Any]] = mapped_column(default=list)
    #: False: the referral form does not offer the team (a closed team).
    accepts_referrals: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Årsplatser: the number of places a year the team is funded for.
    places: Mapped[int | None] = mapped_column(Integer)
    #: How participants reach the team (public: the survey's thanks and broken-link pages).
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaffUser(Base):
    """A staff account; ``team_id`` None means förbund-wide (admin)."""

    __tablename__ = "staff_users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    team_id: Mapped[int | None] = _fk("teams.id", nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]
    #: TOTP: the secret (encrypted), when it was turned on, the last time step accepted
    #: (a code works once), and the hashes of the unused recovery codes.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText())
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    recovery_codes: Mapped[list[Any]] = mapped_column(default=list)
    team: Mapped[Team | None] = relationship(lazy="joined")


class StaffSession(Base):
    """A logged-in staff session held on the server; the cookie carries only its token.

    ``token_hash`` is a SHA-256 of the token, so a copy of the table opens no session.
    Deleting the row ends the session in every process at once.
    """

    __tablename__ = "staff_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = _fk("staff_users.id", ondelete="CASCADE")
    #: ``full``; or, after the password but before the second factor, ``totp`` or ``enrol``.
    stage: Mapped[str] = mapped_column(String(10), default="full")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class PasswordToken(Base):
    """A single-use link to set a password: an invitation or a reset (only the hash is kept)."""

    __tablename__ = "password_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = _fk("staff_users.id", ondelete="CASCADE")
    purpose: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Login attempts per key (an account with an address, or an address) in a window."""

    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class Participant(Base):
    """The person a referral is about. Identity fields are encrypted and purgeable."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("team_id", "person_ref", name="uq_participants_team_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = _fk("teams.id")
    person_ref: Mapped[str] = mapped_column(String(60))
    protected_identity: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(EncryptedText())
    personnummer: Mapped[str | None] = mapped_column(EncryptedText())
    personnummer_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    phone: Mapped[str | None] = mapped_column(EncryptedText())
    #: For survey invitations by e-mail (the referral form does not ask for it yet).
    email: Mapped[str | None] = mapped_column(EncryptedText())
    contact_channel: Mapped[str | None] = mapped_column(String(30))
    language: Mapped[str | None] = mapped_column(EncryptedText())
    interpreter: Mapped[bool] = mapped_column(Boolean, default=False)
    gender: Mapped[str] = mapped_column(String(10), default="annat")
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    follow_up_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    purged_at: Mapped[datetime | None]


class Referral(Base):
    """One case, from receipt through the queue and enrolment to its end."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_team_status", "team_id", "status"),
        Index("ix_referrals_team_start_end", "team_id", "start_date", "end_date"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    team_id: Mapped[int] = _fk("teams.id")
    participant_id: Mapped[int] = _fk("participants.id", ondelete="CASCADE")
    status: Mapped[str] = mapped_column(String(20), default="received")
    status_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_date: Mapped[date] = mapped_column(Date, index=True)
    queued_at: Mapped[datetime | None]
    referrer_code: Mapped[str] = mapped_column(String(30))
    referrer_name: Mapped[str | None] = mapped_column(EncryptedText())
    referrer_email: Mapped[str | None] = mapped_column(EncryptedText())
    referrer_phone: Mapped[str | None] = mapped_column(EncryptedText())
    income_source: Mapped[str] = mapped_column(String(30), default="okand")
    income_source_after: Mapped[str | None] = mapped_column(String(30))
    contacts: Mapped[list[Any]] = mapped_column(default=list)
    help_wanted: Mapped[str | None] = mapped_column(EncryptedText())
    practical_needs: Mapped[str | None] = mapped_column(EncryptedText())
    form_language: Mapped[str] = mapped_column(String(5), default="sv")
    start_date: Mapped[date | None] = mapped_column(Date)
    trial_months: Mapped[int | None] = mapped_column(Integer)
    end_date: Mapped[date | None] = mapped_column(Date)
    end_reason: Mapped[str | None] = mapped_column(String(30))
    #: The booked introductory visit (*studiebesök*), while the referral is ``visit_booked``.
    visit_date: Mapped[date | None] = mapped_column(Date)
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    participant: Mapped[Participant] = relationship(lazy="joined")


class ReferralFormDraft(Base):
    """A referral form between its steps, or the copy its receipt shows: short-lived.

    The public form keeps what was typed here between the form, the review and the receipt
    (redirect after each POST), so a page never has to carry it back and the browser's back
    button never posts it again. ``token_hash`` is a SHA-256 of the random token the page and
    the case worker's session hold; ``payload`` (JSON) is encrypted. ``stage`` is ``review``
    while it is a form, ``sent`` once it is the receipt's copy (personnummer masked).
    Rows past ``expires_at`` are never shown and are deleted by a scheduled job.
    """

    __tablename__ = "referral_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    stage: Mapped[str] = mapped_column(String(10), default="review")
    payload: Mapped[str] = mapped_column(EncryptedText())
    reference: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ReferralEvent(Base):
    """A status transition: who, when, why. The history answers "queue at the end of X"."""

    __tablename__ = "referral_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = _fk("referrals.id", ondelete="CASCADE")
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = _fk("staff_users.id", nullable=True)
    reason: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(EncryptedText())
    #: The text sent to the referrer (a declined referral's reason); ``note`` stays in the team.
    referrer_message: Mapped[str | None] = mapped_column(EncryptedText())
    #: The visit's date, on a move to ``visit_booked``.
    visit_date: Mapped[date | None] = mapped_column(Date)


class FormDraft(Base):
    """What a member of staff typed into a form when their session had expired.

    Kept until they log in again (or for a few hours), then filled in on the page they were
    on; ``token_hash`` is a SHA-256 of the one-time key their session cookie carries and
    ``fields`` (a JSON object of the form's fields) is encrypted like every free text.
    """

    __tablename__ = "form_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = _fk("staff_users.id", ondelete="CASCADE")
    page: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(300))
    fields: Mapped[str] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ProgressStep(Base):
    """The participant's step on the way to work, recorded by staff over time."""

    __tablename__ = "progress_steps"
    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = _fk("referrals.id", ondelete="CASCADE")
    recorded_on: Mapped[date] = mapped_column(Date)
    step: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(EncryptedText())
    user_id: Mapped[int | None] = _fk("staff_users.id", nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Consent(Base):
    """One consent record: one kind, one party (for information sharing), one text version."""

    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = _fk("participants.id", ondelete="CASCADE")
    referral_id: Mapped[int | None] = _fk("referrals.id", nullable=True, ondelete="CASCADE")
    kind: Mapped[str] = mapped_column(String(30))
    party: Mapped[str | None] = mapped_column(String(20))
    information_kinds: Mapped[list[Any]] = mapped_column(default=list)
    purpose: Mapped[str] = mapped_column(String(500), default="")
    text_version: Mapped[str] = mapped_column(String(20))
    text_hash: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(5))
    method: Mapped[str] = mapped_column(String(10))
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_user_id: Mapped[int | None] = _fk("staff_users.id", nullable=True)
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    withdrawn_at: Mapped[datetime | None]
    withdrawal_channel: Mapped[str | None] = mapped_column(String(30))
    withdrawn_by_user_id: Mapped[int | None] = _fk("staff_users.id", nullable=True)


class SurveyVersion(Base):
    """A survey definition exactly as answered (content hash makes each version unique)."""

    __tablename__ = "survey_versions"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    definition: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Invitation(Base):
    """A single-use, expiring survey invitation; only the token's hash is stored."""

    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = _fk("participants.id", ondelete="CASCADE")
    team_id: Mapped[int] = _fk("teams.id")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    created_by_user_id: Mapped[int | None] = _fk("staff_users.id", nullable=True)
    claimed_at: Mapped[datetime | None]
    telegram_chat_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    language: Mapped[str | None] = mapped_column(String(5))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    last_reminder_at: Mapped[datetime | None]
    reminders_stopped: Mapped[bool] = mapped_column(Boolean, default=False)
    revoked_at: Mapped[datetime | None]


class Response(Base):
    """A participant's answers to one survey version through one invitation."""

    __tablename__ = "responses"
    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"), unique=True
    )
    participant_id: Mapped[int] = _fk("participants.id", ondelete="CASCADE")
    team_id: Mapped[int] = _fk("teams.id")
    survey_version_id: Mapped[int] = _fk("survey_versions.id")
    language: Mapped[str] = mapped_column(String(5), default="sv")
    channel: Mapped[str] = mapped_column(String(10))
    cursor: Mapped[str | None] = mapped_column(String(60))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    quote_allowed: Mapped[bool | None] = mapped_column(Boolean)


class Answer(Base):
    """One question's answer; choices in ``value`` (JSON), free text encrypted in ``text``."""

    __tablename__ = "answers"
    __table_args__ = (UniqueConstraint("response_id", "question_id", name="uq_answers_question"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    question_id: Mapped[str] = mapped_column(String(60))
    value: Mapped[Any | None] = mapped_column(JSON)
    text: Mapped[str | None] = mapped_column(EncryptedText())
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)
    skipped: Mapped[bool] = mapped_column(Boolean, default=False)
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)
    themes_corrected_at: Mapped[datetime | None]
    themes_corrected_by: Mapped[int | None] = _fk("staff_users.id", nullable=True)
    #: A Swedish gloss of a quote in another language, written by staff in the theme review.
    gloss_sv: Mapped[str | None] = mapped_column(EncryptedText())


class AnswerTheme(Base):
    """A theme of a free-text answer; staff corrections (``source='staff'``) win over ``auto``."""

    __tablename__ = "answer_themes"
    __table_args__ = (
        UniqueConstraint("answer_id", "theme", "source", name="uq_answer_themes_theme"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = _fk("answers.id", ondelete="CASCADE")
    theme: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(10), default="auto")


class ProcessedUpdate(Base):
    """Telegram update ids already handled, so a redelivered update is not applied twice.

    ``reply_failed``: the update was applied but its replies could not be sent, so a
    redelivery shows the participant where they are (without applying it again).
    """

    __tablename__ = "processed_updates"
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    reply_failed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class AuditEntry(Base):
    """Append-only audit log: ids and codes only, never names or answers."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_object", "object_type", "object_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = _fk("staff_users.id", nullable=True)
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(60), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    team_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobLease(Base):
    """Which process runs a scheduled job now: a lease taken with one atomic UPDATE."""

    __tablename__ = "job_leases"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80), default="")
    locked_until: Mapped[datetime]
    last_run_at: Mapped[datetime | None]


class OutboxMessage(Base):
    """An e-mail or SMS queued by an operation in its own transaction, sent afterwards by a job.

    Recipients and body are encrypted (addresses and phone numbers are contact details).
    ``channel`` is ``email`` or ``sms``; for an SMS, ``provider_id`` and ``delivery_status``
    are what the provider answered and later reported (``delivered``/``failed``). ``claimed_until``
    keeps a message to one sending process at a time; ``failed_at`` marks one given up after
    repeated failures, shown on the record it belongs to (``object_type``/``object_id``).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "sent_at", "failed_at", "due_at"),
        Index("ix_outbox_object", "object_type", "object_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    recipients: Mapped[str] = mapped_column(EncryptedText)
    subject: Mapped[str] = mapped_column(EncryptedText)
    body: Mapped[str] = mapped_column(EncryptedText)
    team_id: Mapped[int | None] = mapped_column(Integer, index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    provider_id: Mapped[str | None] = mapped_column(String(80))
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    delivered_at: Mapped[datetime | None]
