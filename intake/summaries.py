"""The summaries page of the team pages: a period's report, its charts, downloads and themes.

``GET /team/sammanstallning`` shows the drafted report of a period (presets: the last
half-year, this year so far, or dates of one's own) for one team or, for förbund-wide staff, all
of them; ``GET /team/sammanstallning/diagram/{name}.png`` draws one chart;
``GET /team/sammanstallning/ladda-ner.{md,docx,xlsx,json}`` downloads it (audited as an
export); ``GET /team/sammanstallning/teman`` lists the period's free-text answers for theme
review (audited as a view), ``POST /team/sammanstallning/teman/{id}`` corrects one answer's
themes and ``POST /team/sammanstallning/teman/{id}/oversattning`` stores a Swedish gloss of an
answer in another language (both through :mod:`services.themes`). Period, team and the small-numbers choice travel in the query string (``period``,
``from``, ``to``, ``team``, ``sma_tal``); nothing personal does. Small numbers are hidden unless
staff ask to see them, for the team's own use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from core.clock import today_in_sweden
from core.errors import DomainError, NotFound
from core.i18n import N_
from core.themes import default_codebook
from intake import auth, i18n
from intake.context import CONFIG, DB
from intake.team_pages import flash, path_id, render, staff_of, take_flash
from reports.charts import CHART_TITLES
from reports.draft import draft_sections
from reports.periods import Period, last_half_year, parse_date, this_year
from reports.summary_cache import Key, SummaryCache
from reports.theme_review import PAGE_SIZE
from services import board, summaries
from services.themes import correct_theme, set_quote_gloss

SUMMARY_CACHE = web.AppKey("summary_cache", SummaryCache)
PRESETS = {"halvar": N_("Senaste halvåret"), "ar": N_("I år"), "egen": N_("Egna datum")}
DATE_FORMAT_MESSAGE = N_("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2025-01-01.")
#: Download formats: label and content type.
DOWNLOADS = {
    "docx": ("Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "xlsx": ("Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "md": ("Markdown", "text/markdown"),
    "json": ("JSON", "application/json"),
}


@dataclass(frozen=True)
class Selection:
    """What the page shows: a period (None while its dates are wrong), a team, small numbers."""

    preset: str
    first: str
    last: str
    team: str | None
    raw: bool
    period: Period | None
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        """The summary cache's key of this selection."""
        assert self.period is not None
        return (self.team, self.period, self.raw)

    def query(self) -> str:
        """The selection as a query string, for links to charts, downloads and review."""
        assert self.period is not None
        values = {
            "period": "egen",
            "from": self.period.first_day.isoformat(),
            "to": self.period.last_day.isoformat(),
            "team": self.team or "",
        }
        return urlencode(values | ({"sma_tal": "visa"} if self.raw else {}))


def read_selection(
    query: Mapping[str, str], *, today: date, team_codes: Sequence[str], whole_forbund: bool
) -> Selection:
    """The selection in the query string; an unknown team is NotFound, wrong dates are errors."""
    preset = query.get("period", "halvar")
    preset = preset if preset in PRESETS else "halvar"
    team = query.get("team", "") or None
    if team is None and not whole_forbund:
        team = team_codes[0] if team_codes else None
    if (team is None and not whole_forbund) or (team is not None and team not in team_codes):
        raise NotFound(N_("Teamet finns inte."))
    first, last = query.get("from", ""), query.get("to", "")
    period, errors = _period(preset, first, last, today)
    if period is not None:  # the fields show the dates a preset stands for
        first, last = period.first_day.isoformat(), period.last_day.isoformat()
    raw = query.get("sma_tal") == "visa"
    return Selection(preset, first, last, team, raw, period, errors)


def _period(
    preset: str, first: str, last: str, today: date
) -> tuple[Period | None, dict[str, str]]:
    """The period of a preset, or of the dates given; None and messages when they are wrong."""
    if preset == "halvar":
        return last_half_year(today), {}
    if preset == "ar":
        return this_year(today), {}
    errors: dict[str, str] = {}
    days: dict[str, date] = {}
    for name, text in (("from", first), ("to", last)):
        try:
            days[name] = parse_date(text, field=name)
        except DomainError:
            errors[name] = i18n.gettext(DATE_FORMAT_MESSAGE)
    if errors:
        return None, errors
    try:
        return Period(days["from"], days["to"]), {}
    except DomainError as failed:
        return None, {"to": failed.render(i18n.gettext)}


async def _selection(request: web.Request) -> tuple[Selection, list[board.TeamChoice]]:
    """The request's selection and the teams the user may choose from (404: not theirs)."""
    staff = staff_of(request)
    teams = await board.visible_teams(request.app[DB], staff)
    try:
        selection = read_selection(
            request.query,
            today=today_in_sweden(),
            team_codes=[t.code for t in teams],
            whole_forbund=staff.team_ids is None,
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    return selection, teams


async def _chosen(request: web.Request) -> Selection:
    """The selection of a chart, download or review; 404 when its dates are wrong."""
    selection, _ = await _selection(request)
    if selection.period is None:
        raise web.HTTPNotFound()
    return selection


@auth.require_role("staff")
async def summary_page(request: web.Request) -> web.StreamResponse:
    """GET /team/sammanstallning: the drafted report of the chosen period and team."""
    selection, teams = await _selection(request)
    context: dict[str, Any] = {
        "selection": selection,
        "teams": teams,
        "presets": PRESETS,
        "sections": [],
        "flash": await take_flash(request),
    }
    if selection.period is None:
        return render(request, "team/summaries.html", context, status=422)
    summary = await request.app[SUMMARY_CACHE].summary(request.app[DB], selection.key)
    sections = draft_sections(summary)
    context |= {
        "title": sections[0].title,
        "sections": sections[1:],
        "chart_names": CHART_TITLES,
        "downloads": {fmt: label for fmt, (label, _) in DOWNLOADS.items()},
        "unthemed": summary["survey"].get("unthemed"),
        "threshold": request.app[CONFIG].suppression_threshold,
    }
    return render(request, "team/summaries.html", context)


@auth.require_role("staff")
async def chart_image(request: web.Request) -> web.StreamResponse:
    """GET /team/sammanstallning/diagram/{name}.png: one chart of the report."""
    name = request.match_info["name"]
    if name not in CHART_TITLES:
        raise web.HTTPNotFound()
    selection = await _chosen(request)
    charts = await request.app[SUMMARY_CACHE].charts(request.app[DB], selection.key)
    headers = {"Cache-Control": "private, max-age=60"}
    return web.Response(body=charts[name], content_type="image/png", headers=headers)


@auth.require_role("staff")
async def download(request: web.Request) -> web.StreamResponse:
    """GET /team/sammanstallning/ladda-ner.{format}: the report as a file, an audited export."""
    fmt = request.match_info["format"]
    if fmt not in DOWNLOADS:
        raise web.HTTPNotFound()
    selection = await _chosen(request)
    assert selection.period is not None
    content = await request.app[SUMMARY_CACHE].rendered(request.app[DB], selection.key, fmt)
    await summaries.record_summary_export(
        request.app[DB],
        staff_of(request),
        team=selection.team,
        period=selection.period,
        fmt=fmt,
        raw=selection.raw,
    )
    period = selection.period
    team = re.sub(r"[^A-Za-z0-9_-]", "", selection.team or "forbundet")
    name = f"sammanstallning-{team}-{period.first_day}-{period.last_day}"
    text = fmt in ("md", "json")
    return web.Response(
        body=content,
        content_type=DOWNLOADS[fmt][1],
        charset="utf-8" if text else None,
        headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'},
    )


@auth.require_role("staff")
async def theme_review(request: web.Request) -> web.StreamResponse:
    """GET /team/sammanstallning/teman: answers to review, each with a form for its themes."""
    selection = await _chosen(request)
    assert selection.period is not None
    everything, page = request.query.get("visa") == "alla", _page_number(request.query)
    codebook = default_codebook()
    review = await summaries.review_answers(
        request.app[DB],
        staff_of(request),
        team=selection.team,
        period=selection.period,
        codebook=codebook,
        unthemed_only=not everything,
        page=page,
    )
    answers, total = review.answers, review.total
    language = i18n.current_language()
    context = {
        "selection": selection, "answers": answers, "total": total, "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)), "page_size": PAGE_SIZE, "everything": everything,
        "themes": [(code, codebook.label(code, language)) for code in codebook.codes],
        "here": request.path_qs, "flash": await take_flash(request),
    }  # fmt: skip
    return render(request, "team/summaries_themes.html", context)


def _page_number(query: Mapping[str, str]) -> int:
    """The page of a list (0 first) from ``?sida=`` (1 first); 0 for anything odd."""
    text = query.get("sida", "1")
    return int(text) - 1 if text.isdigit() and 0 < int(text) < 10_000 else 0


@auth.require_role("staff")
async def save_themes(request: web.Request) -> web.StreamResponse:
    """POST /team/sammanstallning/teman/{id}: staff set an answer's themes (a correction)."""
    answer_id, form, staff = path_id(request), await request.post(), staff_of(request)
    themes = [str(v) for v in form.getall("themes", [])]
    try:
        await correct_theme(request.app[DB], staff, answer_id, themes, codebook=default_codebook())
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as failed:
        raise web.HTTPBadRequest(text=failed.render(i18n.gettext)) from None
    request.app[SUMMARY_CACHE].clear()
    await flash(
        request, i18n.gettext("Temana är sparade och gäller före den automatiska kodningen.")
    )
    raise _back_to_review(form, answer_id)


@auth.require_role("staff")
async def save_gloss(request: web.Request) -> web.StreamResponse:
    """POST /team/sammanstallning/teman/{id}/oversattning: a Swedish gloss of a quote."""
    answer_id, form, staff = path_id(request), await request.post(), staff_of(request)
    try:
        await set_quote_gloss(request.app[DB], staff, answer_id, str(form.get("gloss", "")))
    except NotFound:
        raise web.HTTPNotFound() from None
    except DomainError as failed:
        raise web.HTTPBadRequest(text=failed.render(i18n.gettext)) from None
    request.app[SUMMARY_CACHE].clear()
    await flash(request, i18n.gettext("Översättningen är sparad."))
    raise _back_to_review(form, answer_id)


def _back_to_review(form: Mapping[str, Any], answer_id: int) -> web.HTTPSeeOther:
    """Back to the review page the form was on, at the answer."""
    back = str(form.get("tillbaka", ""))
    safe = back.startswith("/team/sammanstallning/teman?") and "//" not in back
    return web.HTTPSeeOther(f"{back}#svar-{answer_id}" if safe else "/team/sammanstallning/teman")


def setup(app: web.Application) -> None:
    """Register the summaries routes and the summary cache."""
    app[SUMMARY_CACHE] = SummaryCache(threshold=app[CONFIG].suppression_threshold)
    app.router.add_get("/team/sammanstallning", summary_page)
    app.router.add_get("/team/sammanstallning/diagram/{name:[a-z_]+}.png", chart_image)
    app.router.add_get("/team/sammanstallning/ladda-ner.{format:[a-z]+}", download)
    app.router.add_get("/team/sammanstallning/teman", theme_review)
    app.router.add_post(r"/team/sammanstallning/teman/{id:\d+}", save_themes)
    app.router.add_post(r"/team/sammanstallning/teman/{id:\d+}/oversattning", save_gloss)
