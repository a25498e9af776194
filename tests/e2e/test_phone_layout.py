"""Every page on a phone, at 200 % zoom and with a 200 % default font: nothing wider than the
screen, no caption cut off, no axe-core (WCAG 2.1 AA) violation.

The public pages (the referral form, its review and receipt, the consent print, the login and
password pages, every page of the web survey including its thanks and a broken link) are
visited once; the team's pages as a coordinator, a coach and an admin (with the two-factor
pages on the way in). The team pages are found by following the links on each page from the
start pages (one page per route: ids become ``N``), so pages added later are checked too.
The database holds the demo data, so lists, charts and tables are full.

Three ways to look at a 375 px phone:

- ``phone``: 375 CSS px wide;
- ``zoom``: 187 CSS px wide, which is how a 375 px screen lays out a page zoomed to 200 %;
- ``font``: 375 CSS px wide with the browser's default font at 32 px instead of 16 (the
  setting people with low vision change), emulated through the DevTools protocol.

``SAMVERKAN_SCREENSHOTS=DIR`` saves a screenshot of every page visited.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select, update

from core import surveys as core
from core.clock import today_in_sweden, utcnow
from storage import invitations
from storage.demo import load_demo_data
from storage.models import Invitation, Team
from tests.common.referrals import referral_form
from tests.common.surveys import make_enrolled_participant
from tests.common.teams import PASSWORD, TOTP_SECRET, make_user
from tests.e2e.axe import axe_violations, describe

SCREENSHOTS = os.environ.get("SAMVERKAN_SCREENSHOTS", "")
SURVEY = core.load_default_survey()


@dataclass(frozen=True)
class Mode:
    name: str
    width: int
    height: int
    default_font_px: int = 16


MODES = [
    Mode("phone", 375, 812),
    Mode("zoom", 187, 406),
    Mode("font", 375, 812, default_font_px=32),
]

#: Where the crawl of the team pages starts (it follows the links from there).
TEAM_START = [
    "/team/",
    "/team/remisser",
    "/team/deltagare",
    "/team/enkater",
    "/team/sammanstallning",
    "/team/sammanstallning/teman",
    "/team/logg",
    "/team/admin/team",
    "/team/admin/personal",
]
#: Links that are not pages to look at (downloads, images, leaving the session).
NOT_PAGES = re.compile(r"\.(csv|png|json|md|docx|xlsx)$|/ladda-ner|/logout|^/static/")
MAX_PAGES_PER_ROLE = 60

#: Elements sticking out past the viewport's right edge (or left, right to left), the
#: outermost ones only, and table captions whose text is cut off by a scrolling wrapper.
OVERFLOW_JS = """
(width) => {
  // The phone's width: a mobile browser widens the layout viewport to fit a page that is too
  // wide, so the window's own width would hide the problem.
  const vw = width;
  const out = [];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ?
      '.' + el.className.trim().split(/\\s+/).join('.') : '');
  // Cut by an edge; wholly outside (a skip link waiting for the focus) is not cut.
  const sticksOut = (r) => r.width > 0 &&
    ((r.right > vw + 0.5 && r.left < vw) || (r.left < -0.5 && r.right > 0));
  const clipped = (el) => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX !== 'visible' || s.clip !== 'auto' || s.clipPath !== 'none') return true;
    }
    return false;
  };
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (!sticksOut(r) || clipped(el)) continue;
    const p = el.parentElement && el.parentElement.getBoundingClientRect();
    if (p && sticksOut(p)) continue;
    out.push(`${name(el)} ${Math.round(r.left)}..${Math.round(r.right)} px: ` +
             JSON.stringify((el.innerText || el.value || '').trim().slice(0, 60)));
  }
  for (const caption of document.querySelectorAll('caption')) {
    const style = getComputedStyle(caption);
    if (style.clip !== 'auto' || caption.getBoundingClientRect().width <= 1) continue;  // for screen readers only
    const range = document.createRange();
    range.selectNodeContents(caption);
    const r = range.getBoundingClientRect();
    if (r.width > 0 && (r.right > vw + 0.5 || r.left < -0.5)) {
      out.push(`caption cut off at ${Math.round(r.left)}..${Math.round(r.right)} px: ` +
               JSON.stringify(caption.innerText.trim().slice(0, 60)));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          rootFont: getComputedStyle(document.documentElement).fontSize, offenders: out};
}
"""


@dataclass
class Sweep:
    """Pages checked in one mode, and what was wrong with them."""

    mode: Mode
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    async def check(self, page: Any, what: str) -> None:
        """Check the page as it is now: width, captions, axe; note what is wrong."""
        self.checked.append(what)
        found = await page.evaluate(OVERFLOW_JS, self.mode.width)
        expected_font = f"{self.mode.default_font_px}px"
        if found["rootFont"] != expected_font:
            self.problems.append(f"{what}: root font {found['rootFont']}, not {expected_font}")
        width = self.mode.width
        if max(found["scrollWidth"], found["innerWidth"]) > width or found["offenders"]:
            self.problems.append(
                f"{what}: {found['scrollWidth']} px wide on a {width} px screen;"
                " sticking out: " + "; ".join(found["offenders"][:8])
            )
        violations = await axe_violations(page)
        if violations:
            self.problems.append(f"{what}: axe: {describe(violations)}")
        if SCREENSHOTS:
            slug = re.sub(r"[^a-z0-9]+", "-", what.lower()).strip("-")[:80]
            await asyncio.to_thread(Path(SCREENSHOTS).mkdir, parents=True, exist_ok=True)
            height = await page.evaluate("() => document.documentElement.scrollHeight")
            long = height > 3 * self.mode.height  # long pages: the first three screens
            first_screens = {
                "x": 0,
                "y": 0,
                "width": self.mode.width,
                "height": 3 * self.mode.height,
            }
            await page.screenshot(
                path=f"{SCREENSHOTS}/{self.mode.name}-{slug}.png",
                full_page=True,
                clip=first_screens if long else None,
            )
            await page.evaluate(  # lazy images in the screenshots too
                "() => Promise.all([...document.images].map(i => { i.loading = 'eager';"
                " return i.complete ? null : new Promise(r => { i.onload = i.onerror = r; }); }))"
            )
            for n, figure in enumerate(await page.locator("figure").all()):
                await figure.screenshot(path=f"{SCREENSHOTS}/{self.mode.name}-{slug}-figure{n}.png")

    async def visit(self, page: Any, url: str, what: str, status: int = 200) -> None:
        response = await page.goto(url)
        if response is None or response.status != status:
            got = response.status if response else "none"
            self.problems.append(f"{what}: status {got}, expected {status}")
        await self.check(page, what)


async def new_page(browser: Any, mode: Mode) -> Any:
    """A phone-sized page of its own (own cookies), with the mode's default font size."""
    from tests.e2e.axe import AXE_SOURCE

    context = await browser.new_context(
        viewport={"width": mode.width, "height": mode.height},
        locale="sv-SE",
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
    )
    await context.add_init_script(AXE_SOURCE)
    page = await context.new_page()
    if mode.default_font_px != 16:
        cdp = await context.new_cdp_session(page)
        await cdp.send(
            "Page.setFontSizes",
            {"fontSizes": {"standard": mode.default_font_px, "fixed": mode.default_font_px}},
        )
    return page


async def click_and_wait(page: Any, selector: str) -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def fill_referral_form(page: Any) -> None:
    """Every field of the referral form from the tests' valid form, set in the page."""
    await page.evaluate(
        """(form) => {
          for (const [name, value] of Object.entries(form)) {
            const wanted = Array.isArray(value) ? value : [value];
            for (const el of document.querySelectorAll(`[name="${name}"]`)) {
              if (el.type === 'checkbox' || el.type === 'radio') el.checked = wanted.includes(el.value);
              else el.value = wanted[0];
            }
          }
        }""",
        referral_form(),
    )


async def public_pages(sweep: Sweep, page: Any, base: str) -> None:
    """The referral form, review, receipt and consent print; the login and password pages."""
    await sweep.visit(page, base + "/remiss", "referral form")
    await click_and_wait(page, "#continue")  # empty: the error summary
    await sweep.check(page, "referral form with errors")
    await fill_referral_form(page)
    await click_and_wait(page, "#continue")
    await sweep.check(page, "referral review")
    await click_and_wait(page, "#send")
    assert "/remiss/kvitto" in page.url, page.url
    await sweep.check(page, "referral receipt")
    await sweep.visit(page, base + "/remiss?lang=en", "referral form in English")
    await sweep.visit(page, base + "/remiss?lang=ar", "referral form in Arabic")
    await sweep.visit(page, base + "/remiss/samtycke", "consent print")
    await sweep.visit(page, base + "/remiss/samtycke?lang=sv", "consent print in Swedish")
    await sweep.visit(page, base + "/team/login", "login")
    await sweep.visit(page, base + "/konto/glomt-losenord", "forgotten password")
    await sweep.visit(
        page, base + "/konto/losenord/" + "x" * 43, "set password (bad link)", status=404
    )


async def survey_pages(sweep: Sweep, page: Any, base: str, db: Any, lang: str) -> None:
    """Each page of the web survey, from the start to the thanks and deleting the answers."""
    participant = await make_enrolled_participant(db, f"L-{sweep.mode.name[:2]}-{lang}")
    async with db.transaction() as session:
        [new] = await invitations.create_invitations(session, [participant], channel="web", days=30)
    link = f"{base}/enkat/{new.token}"
    tag = f"survey ({lang})"
    await sweep.visit(page, f"{link}?lang={lang}", f"{tag} start")
    await click_and_wait(page, "button[value=start]")
    for number, question in enumerate(SURVEY.questions, start=1):
        await sweep.check(page, f"{tag} question {number}")
        if number == 1:
            await click_and_wait(page, "button[value=answer]")  # nothing chosen: an error
            await sweep.check(page, f"{tag} question {number} with an error")
        if question.kind == "text":
            await page.fill("#answer-1", "Samtalen med min coach och gruppträffarna på tisdagar")
        else:
            await page.check("#answer-1")
        if number == 2:
            await click_and_wait(page, "button[value=later]")
            await sweep.check(page, f"{tag} saved for later")
            await page.goto(link)
            await page.fill("#answer-1", "Samtalen")
        await click_and_wait(page, "button[value=answer]")
    await sweep.check(page, f"{tag} thanks")
    await sweep.visit(page, f"{link}/radera", f"{tag} delete")
    await click_and_wait(page, "main button[type=submit]")
    await sweep.check(page, f"{tag} deleted")
    await sweep.visit(page, f"{base}/enkat/{'x' * 43}", f"{tag} unknown link", status=404)
    async with db.transaction() as session:
        await session.execute(
            update(Invitation)
            .where(Invitation.participant_id == participant.id)
            .values(expires_at=utcnow() - timedelta(days=1))
        )
    await sweep.visit(page, link, f"{tag} expired link", status=410)


def route_of(path: str) -> str:
    """One name for the pages of one route: ``/team/deltagare/17`` → ``/team/deltagare/N``."""
    return re.sub(r"/\d+(?=/|$)", "/N", path)


async def crawl_team_pages(sweep: Sweep, page: Any, base: str, role: str) -> None:
    """From the start pages, every team page linked from another, one page per route."""
    queue, seen = list(TEAM_START), {route_of(p) for p in TEAM_START}
    while queue and len(sweep.checked) < 10_000:
        path = queue.pop(0)
        response = await page.goto(base + path)
        if response is not None and response.status in (403, 404) and path in TEAM_START:
            continue  # a start page this role may not see
        if response is None or response.status != 200:
            got = response.status if response else "none"
            sweep.problems.append(f"{role} {path}: status {got}")
            continue
        await sweep.check(page, f"{role} {route_of(path)}")
        hrefs = await page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
        for href in hrefs:
            parts = urlsplit(href)
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if not href.startswith(base) or not parts.path.startswith("/team/"):
                continue
            if NOT_PAGES.search(parts.path) or route_of(parts.path) in seen:
                continue
            seen.add(route_of(parts.path))
            if len(seen) <= MAX_PAGES_PER_ROLE:
                queue.append(link)


async def log_in(sweep: Sweep, page: Any, base: str, email: str, role: str) -> None:
    await sweep.visit(page, base + "/team/login", f"{role} login")
    await page.fill("#email", email)
    await page.fill("#password", PASSWORD)
    await click_and_wait(page, "button[type=submit]")


async def staff_pages(sweep: Sweep, page_for: Any, base: str, live_server: Any) -> None:
    """The team's pages as a coordinator, a coach and an admin (two-factor pages included)."""
    name = sweep.mode.name
    page = await page_for()
    await make_user(live_server.db, f"samordnare-{name}@example.se", role="coordinator")
    await log_in(sweep, page, base, f"samordnare-{name}@example.se", "coordinator")
    await crawl_team_pages(sweep, page, base, "coordinator")
    await invitation_created(sweep, page, base)

    page = await page_for()
    await make_user(live_server.db, f"coach-{name}@example.se")
    await log_in(sweep, page, base, f"coach-{name}@example.se", "coach")
    await crawl_team_pages(sweep, page, base, "coach")

    page = await page_for()  # an admin with an authenticator app: the code page
    await make_user(live_server.db, f"admin-{name}@example.se", role="admin", team=None)
    await log_in(sweep, page, base, f"admin-{name}@example.se", "admin")
    assert page.url.endswith("/team/login/kod"), page.url
    await sweep.check(page, "admin login code")
    await page.fill("#code", pyotp.TOTP(TOTP_SECRET).now())
    await click_and_wait(page, "button[type=submit]")
    await crawl_team_pages(sweep, page, base, "admin")

    page = await page_for()  # a new admin: enrolment and the recovery codes
    await make_user(
        live_server.db, f"ny-admin-{name}@example.se", role="admin", team=None, two_factor=False
    )
    await log_in(sweep, page, base, f"ny-admin-{name}@example.se", "new admin")
    assert page.url.endswith("/team/tvafaktor"), page.url
    await sweep.check(page, "two-factor enrolment")
    secret = (await page.locator("code.secret").inner_text()).replace(" ", "")
    await page.fill("#code", pyotp.TOTP(secret).now())
    await click_and_wait(page, "button[type=submit]")
    await sweep.check(page, "recovery codes")


async def invitation_created(sweep: Sweep, page: Any, base: str) -> None:
    """The page showing a new invitation once (link, QR code), reached by the real form."""
    await page.goto(base + "/team/enkater")
    button = page.locator("form[action^='/team/enkater/deltagare/'] button[type=submit]").first
    if await button.count() == 0:
        sweep.problems.append("invitations: no participant to invite")
        return
    async with page.expect_navigation():
        await button.click()
    await sweep.check(page, "coordinator invitation created")


@pytest.fixture
async def demo_server(live_server: Any) -> Any:
    """The live server with the demo data (two teams, three years) in its database."""
    await load_demo_data(live_server.db, anchor=today_in_sweden())
    async with live_server.db.sessions() as session:
        assert await session.scalar(select(Team.id).where(Team.code == "norr")) is not None
    return live_server


@pytest.mark.parametrize("mode", MODES, ids=[m.name for m in MODES])
async def test_every_page_fits_a_phone_and_passes_axe(demo_server, browser, mode: Mode) -> None:
    sweep, base, pages = Sweep(mode), demo_server.url, []

    async def page_for() -> Any:
        pages.append(await new_page(browser, mode))
        return pages[-1]

    try:
        await public_pages(sweep, await page_for(), base)
        for lang in ("sv", "ar"):
            await survey_pages(sweep, await page_for(), base, demo_server.db, lang)
        await staff_pages(sweep, page_for, base, demo_server)
    finally:
        for page in pages:
            await page.context.close()
    routes = {what for what in sweep.checked}
    for expected in (
        "coordinator /team/remisser/N",
        "coordinator /team/deltagare/N",
        "coordinator /team/deltagare/N/logg",
        "coordinator /team/deltagare/N/registerutdrag",
        "coordinator /team/sammanstallning/teman",
        "coordinator /team/logg",
        "admin /team/admin/team/N",
        "admin /team/admin/personal",
        "coach /team/enkater",
    ):
        assert expected in routes, f"the crawl never reached {expected}: {sorted(routes)}"
    assert sweep.problems == [], f"{len(sweep.problems)} problems at {mode.name}:\n" + "\n".join(
        sweep.problems
    )
