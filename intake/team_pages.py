"""What the team's pages share: the acting staff member, filters, small forms and messages."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from core.access import Staff
from core.clock import SWEDEN
from core.codes import (
    CONSENT_KINDS,
    CONSENT_METHODS,
    CONTACT_CHANNELS,
    GENDERS,
    PARTIES,
    PROGRESS_STEPS,
    REVEAL_REASONS,
    Code,
)
from core.consent import INFORMATION_KINDS, WITHDRAWAL_CHANNELS
from core.errors import DomainError, FormErrors
from core.translations import language_name
from intake import auth, i18n
from services.board import Period

FLASH_KEY = "flash"
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def staff_of(request: web.Request) -> Staff:
    """The logged-in member of staff and the teams they may see."""
    user = request[auth.USER]
    teams = auth.visible_team_ids(user)
    return Staff(user.id, user.role, None if teams is None else frozenset(teams))


def parse_date(text: str) -> date | None:
    """``YYYY-MM-DD`` as a date; None when empty or not a real date."""
    text = text.strip()
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def moment_of(day: date | None) -> datetime | None:
    """The moment a form's date stands for: the end of that day in Sweden, or now if sooner."""
    if day is None:
        return None
    end_of_day = datetime.combine(day, time(23, 59, 59), tzinfo=SWEDEN).astimezone(UTC)
    return min(end_of_day, datetime.now(UTC))


def period_of(query: Mapping[str, str]) -> Period:
    """The period in a list's ``from`` and ``to`` query parameters (either may be empty)."""
    return Period(parse_date(query.get("from", "")), parse_date(query.get("to", "")))


def list_filters(
    query: Mapping[str, str], allowed: Collection[str], default: str
) -> dict[str, str]:
    """A list page's filters as its form shows them again (an unknown status gives ``default``)."""
    status = query.get("status", default)
    return {
        "status": status if status in allowed else default,
        "team": query.get("team", ""),
        "from": query.get("from", ""),
        "to": query.get("to", ""),
    }


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the URL; 404 for anything else."""
    raw = request.match_info.get(name, "")
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise web.HTTPNotFound()
    return int(raw)


@dataclass
class SmallForm:
    """A team page form's values and its translated errors, for re-rendering after a mistake."""

    name: str = ""
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    #: True when the values are what the person typed before their session expired.
    restored: bool = False

    def value(self, key: str) -> str:
        """The value sent for ``key``."""
        return self.values.get(key, "")

    def for_(self, name: str) -> SmallForm:
        """This form when it is the form ``name``, else an empty one."""
        return self if self.name == name else SmallForm(name)


def failed_form(name: str, values: Mapping[str, Any], failed: DomainError) -> SmallForm:
    """The form ``name`` with the messages of ``failed``, by field ('' for the whole form)."""
    if isinstance(failed, FormErrors):
        errors = {key: error.render(i18n.gettext) for key, error in failed.errors.items()}
    else:
        errors = {failed.field or "": failed.render(i18n.gettext)}
    kept = {key: str(value) for key, value in values.items() if isinstance(value, str)}
    return SmallForm(name, kept, errors)


async def drafted_form(
    request: web.Request, form_of: Callable[[str, Mapping[str, str]], str | None]
) -> SmallForm:
    """The form this page's person sent after their session expired, filled in again (once).

    ``form_of`` names the page's form that posts the kept fields to their action, or None.
    """
    draft = await auth.take_draft(request)
    name = form_of(draft.action, draft.fields) if draft is not None else None
    if draft is None or name is None:
        return SmallForm()
    return SmallForm(name, dict(draft.fields), {}, restored=True)


async def flash(request: web.Request, message: str) -> None:
    """Show ``message`` once, on the next page this person opens."""
    (await get_session(request))[FLASH_KEY] = message


async def take_flash(request: web.Request) -> str:
    """The message left for this page, if any (shown once)."""
    return str((await get_session(request)).pop(FLASH_KEY, ""))


def choices(codes: Mapping[str, Code]) -> list[tuple[str, str]]:
    """A code list as (code, label) pairs in the current language, for a select or radios."""
    language = i18n.current_language()
    return [(code, item.label(language)) for code, item in codes.items()]


def register_globals(app: web.Application) -> None:
    """Give the team and referral templates the code lists and helpers they show."""
    aiohttp_jinja2.get_env(app).globals.update(
        choices=choices,
        language_name=language_name,
        SWEDEN=SWEDEN,
        CONSENT_KINDS=CONSENT_KINDS,
        CONSENT_METHODS=CONSENT_METHODS,
        CONTACT_CHANNELS=CONTACT_CHANNELS,
        GENDERS=GENDERS,
        INFORMATION_KINDS=INFORMATION_KINDS,
        PARTIES=PARTIES,
        PROGRESS_STEPS=PROGRESS_STEPS,
        REVEAL_REASONS=REVEAL_REASONS,
        WITHDRAWAL_CHANNELS=WITHDRAWAL_CHANNELS,
    )


def render(
    request: web.Request, template: str, context: dict[str, Any], *, status: int = 200
) -> web.Response:
    """A team page; the logged-in user is passed along (context processors run before login)."""
    context = {"current_user": request[auth.USER], **language_context(), **context}
    response = aiohttp_jinja2.render_template(template, request, context)
    response.set_status(status)
    return response


def language_context() -> dict[str, str]:
    """The page language and direction, as chosen for this request.

    The application's context processor runs before the language middleware, so pages pass
    these themselves; otherwise the first page after ``?lang=xx`` has the old ``lang``.
    """
    return {"lang": i18n.current_language(), "dir": i18n.direction()}
