"""Settings, read once at start-up from the environment, then `.env`, then defaults.

`load_settings(environ)` returns a frozen :class:`Settings` or raises :class:`SettingsError`
with one line naming the setting and what is wrong. Secrets are wrapped in :class:`Secret`
so they never show in a repr or a log line.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

PREFIX = "SAMVERKAN_"
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/samverkan.db"
DATABASE_SCHEMES = ("sqlite+aiosqlite", "postgresql+asyncpg")


class SettingsError(Exception):
    """A setting is missing or wrong; the message names it."""


class Secret:
    """A string that hides itself in reprs and str()."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value: pass it on, never log it."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and secrets.compare_digest(self._value, other._value)

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    """Every setting of the service (see README and .env.example)."""

    database_url: Secret
    secret_key: Secret
    previous_secret_keys: tuple[Secret, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    telegram_token: Secret = field(default_factory=lambda: Secret(""))
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_mode: str = "polling"
    telegram_webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    #: ``/metrics`` answers a request with ``Authorization: Bearer <token>``; with no token,
    #: only clients on this machine (loopback) get it.
    metrics_token: Secret = field(default_factory=lambda: Secret(""))
    smtp_url: Secret = field(default_factory=lambda: Secret(""))
    smtp_from: str = "samverkan@localhost"
    #: The SMS provider's send address (46elks: ``https://api.46elks.com/a1/sms``); empty: no SMS.
    sms_url: str = ""
    sms_user: str = ""
    sms_secret: Secret = field(default_factory=lambda: Secret(""))
    #: The sender shown on the phone: 3–11 letters and digits, beginning with a letter, or a number.
    sms_from: str = "Samverkan"
    environment: str = "development"
    data_dir: Path = Path("data")
    #: The förbund's own survey files, offered along with the built-in ones (a file of the same
    #: name as a built-in survey wins). Default: ``surveys`` in the data folder.
    surveys_dir: Path = Path("data/surveys")
    log_level: str = "INFO"
    retention_years: int = 5
    suppression_threshold: int = 5
    invitation_days: int = 30
    #: "Invite all" skips a participant invited, or who answered, fewer days ago than this.
    reinvite_after_days: int = 30
    completed_link_days: int = 7
    reminder_after_days: int = 3
    session_minutes: int = 30
    scheduler: bool = True
    referral_rate_per_hour: int = 30
    trusted_proxies: tuple[str, ...] = ()
    #: Two-factor login (TOTP) for everyone, not only admins (the förbund's choice).
    totp_for_everyone: bool = False

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def telegram_enabled(self) -> bool:
        return bool(self.telegram_token)

    @property
    def sms_enabled(self) -> bool:
        return bool(self.sms_url)


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a simple `.env` file (KEY=VALUE lines, # comments, optional quotes)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise SettingsError(f"{path}:{number}: expected KEY=VALUE")
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip().removeprefix("export ").strip()] = value
    return values


class _Reader:
    """Looks settings up in the environment first, then in `.env`."""

    def __init__(self, environ: Mapping[str, str], dotenv: Mapping[str, str]) -> None:
        self.environ = environ
        self.dotenv = dotenv

    def get(self, name: str, default: str = "") -> str:
        key = PREFIX + name
        if key in self.environ:
            return self.environ[key].strip()
        return self.dotenv.get(key, default).strip() or default

    def integer(self, name: str, default: int, *, low: int, high: int) -> int:
        raw = self.get(name, str(default))
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{PREFIX}{name}: '{raw}' is not a whole number") from None
        if not low <= value <= high:
            raise SettingsError(f"{PREFIX}{name}: {value} is outside {low}..{high}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.get(name, default).lower()
        if value not in choices:
            raise SettingsError(f"{PREFIX}{name}: '{value}' is not one of {', '.join(choices)}")
        return value


def _check_database_url(url: str) -> str:
    scheme = url.split("://", 1)[0] if "://" in url else ""
    if scheme in ("postgresql", "postgres"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if scheme not in DATABASE_SCHEMES:
        raise SettingsError(
            f"{PREFIX}DATABASE_URL: unknown scheme '{scheme or url[:20]}'; "
            f"use {' or '.join(s + '://' for s in DATABASE_SCHEMES)}"
        )
    return url


def _check_url(name: str, url: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(url)
    if parts.scheme not in schemes or not parts.netloc:
        raise SettingsError(f"{PREFIX}{name}: '{url}' is not a {'/'.join(schemes)} URL")
    return url.rstrip("/") if name == "PUBLIC_URL" else url


_SMS_SENDER = re.compile(r"[A-Za-z][A-Za-z0-9]{2,10}|\+[1-9][0-9]{6,14}")


def _sms(reader: _Reader) -> dict[str, Any]:
    """The SMS provider's settings: none, or a URL with its user, secret and a valid sender."""
    url = reader.get("SMS_URL")
    sender = reader.get("SMS_FROM", "Samverkan")
    if not _SMS_SENDER.fullmatch(sender):
        raise SettingsError(
            f"{PREFIX}SMS_FROM: '{sender}' must be 3-11 letters and digits beginning with a "
            "letter, or a phone number in E.164 form (+46...)"
        )
    if not url:
        return {"sms_from": sender}
    _check_url("SMS_URL", url, ("http", "https"))
    user, secret = reader.get("SMS_USER"), reader.get("SMS_SECRET")
    for name, value in (("SMS_USER", user), ("SMS_SECRET", secret)):
        if not value:
            raise SettingsError(f"{PREFIX}{name}: required when {PREFIX}SMS_URL is set")
    return {"sms_url": url, "sms_user": user, "sms_secret": Secret(secret), "sms_from": sender}


def _secret_key(reader: _Reader, environment: str, data_dir: Path) -> Secret:
    value = reader.get("SECRET_KEY")
    if value:
        if len(value) < 32:
            raise SettingsError(f"{PREFIX}SECRET_KEY: too short, use at least 32 characters")
        return Secret(value)
    if environment == "production":
        raise SettingsError(f"{PREFIX}SECRET_KEY: missing; it is required in production")
    key_file = data_dir / "secret.key"
    if key_file.is_file():
        return Secret(key_file.read_text(encoding="utf-8").strip())
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    generated = secrets.token_urlsafe(48)
    # Created readable by its owner only from the first byte (no window at the umask's mode).
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(generated + "\n")
    # Expected on a first run (production refuses to start without a key, above): an INFO
    # line that says what happened and what to do, not a warning that looks like a fault.
    log.info(
        "settings.secret_key_created",
        extra={
            "path": str(key_file),
            "note": "first run: a new secret key was written; keep a copy of the file, "
            "it encrypts the personal data",
        },
    )
    return Secret(generated)


def load_settings(
    environ: Mapping[str, str] | None = None, *, dotenv_path: Path | None = None
) -> Settings:
    """Read and check every setting; raise SettingsError naming the first bad one."""
    environ = os.environ if environ is None else environ
    dotenv = read_dotenv(dotenv_path if dotenv_path is not None else Path(".env"))
    r = _Reader(environ, dotenv)
    environment = r.choice("ENV", "development", ("development", "production", "test"))
    data_dir = Path(r.get("DATA_DIR", "data"))
    telegram_mode = r.choice("TELEGRAM_MODE", "polling", ("polling", "webhook"))
    telegram_token = Secret(r.get("TELEGRAM_TOKEN"))
    webhook_secret = Secret(r.get("TELEGRAM_WEBHOOK_SECRET"))
    if telegram_token and telegram_mode == "webhook" and not webhook_secret:
        raise SettingsError(f"{PREFIX}TELEGRAM_WEBHOOK_SECRET: required in webhook mode")
    smtp_url = r.get("SMTP_URL")
    if smtp_url:
        _check_url("SMTP_URL", smtp_url, ("smtp", "smtps"))
    previous = tuple(Secret(k) for k in r.get("PREVIOUS_SECRET_KEYS").split(",") if k.strip())
    host, port = r.get("HOST", "127.0.0.1"), r.integer("PORT", 8080, low=1, high=65535)
    # Links follow the port by default (SAMVERKAN_PORT=8081 make demo), on a reachable address.
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - compared, not bound
    return Settings(
        database_url=Secret(_check_database_url(r.get("DATABASE_URL", DEFAULT_DATABASE_URL))),
        secret_key=_secret_key(r, environment, data_dir),
        previous_secret_keys=previous,
        host=host,
        port=port,
        public_url=_check_url(
            "PUBLIC_URL", r.get("PUBLIC_URL", f"http://{local}:{port}"), ("http", "https")
        ),
        telegram_token=telegram_token,
        telegram_api_url=_check_url(
            "TELEGRAM_API_URL",
            r.get("TELEGRAM_API_URL", "https://api.telegram.org/bot"),
            ("http", "https"),
        ),
        telegram_mode=telegram_mode,
        telegram_webhook_secret=webhook_secret,
        smtp_url=Secret(smtp_url),
        smtp_from=r.get("SMTP_FROM", "samverkan@localhost"),
        environment=environment,
        data_dir=data_dir,
        surveys_dir=Path(r.get("SURVEYS_DIR", str(data_dir / "surveys"))),
        log_level=r.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper(),
        retention_years=r.integer("RETENTION_YEARS", 5, low=1, high=50),
        suppression_threshold=r.integer("SUPPRESSION_THRESHOLD", 5, low=3, high=100),
        invitation_days=r.integer("INVITATION_DAYS", 30, low=1, high=365),
        reinvite_after_days=r.integer("REINVITE_AFTER_DAYS", 30, low=0, high=3650),
        completed_link_days=r.integer("COMPLETED_LINK_DAYS", 7, low=1, high=3650),
        reminder_after_days=r.integer("REMINDER_AFTER_DAYS", 3, low=1, high=60),
        session_minutes=r.integer("SESSION_MINUTES", 30, low=5, high=720),
        scheduler=r.choice("SCHEDULER", "on", ("on", "off")) == "on",
        referral_rate_per_hour=r.integer("REFERRAL_RATE_PER_HOUR", 30, low=1, high=1_000_000),
        trusted_proxies=tuple(p.strip() for p in r.get("TRUSTED_PROXIES").split(",") if p.strip()),
        metrics_token=Secret(r.get("METRICS_TOKEN")),
        totp_for_everyone=r.choice("TWO_FACTOR", "admins", ("admins", "everyone")) == "everyone",
        **_sms(r),
    )
