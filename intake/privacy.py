"""The right of access for coordinators: a participant's registerutdrag as a JSON file.

``GET /team/deltagare/{id}/registerutdrag`` explains what the file holds; the button on that
page posts (with the CSRF token) to the same address, which returns the file. Making the
extract is audited; the file is never cached and no personal data is in the URL.
"""

from __future__ import annotations

import json

import aiohttp_jinja2
from aiohttp import web

from core.clock import today_in_sweden
from core.errors import NotFound
from intake import auth
from intake.context import DB
from intake.team_pages import path_id
from services.access_export import export_person, may_export

PATH = "/team/deltagare/{id}/registerutdrag"


@auth.require_role("coordinator")
async def access_export_page(request: web.Request) -> web.StreamResponse:
    """GET: what the extract holds and how to hand it over, with the download button."""
    participant_id = path_id(request)
    team_ids = auth.visible_team_ids(request[auth.USER])
    if not await may_export(request.app[DB], participant_id, team_ids):
        raise web.HTTPNotFound()
    return aiohttp_jinja2.render_template(
        "team/access_export.html", request, {"participant_id": participant_id}
    )


@auth.require_role("coordinator")
async def access_export_file(request: web.Request) -> web.StreamResponse:
    """POST: the participant's extract as a JSON download (audited)."""
    participant_id = path_id(request)
    user = request[auth.USER]
    try:
        extract = await export_person(
            request.app[DB],
            participant_id,
            actor=f"user:{user.id}",
            user_id=user.id,
            team_ids=auth.visible_team_ids(user),
        )
    except NotFound:
        raise web.HTTPNotFound() from None
    name = f"registerutdrag-{participant_id}-{today_in_sweden().isoformat()}.json"
    return web.Response(
        body=json.dumps(extract, ensure_ascii=False, indent=2).encode("utf-8"),
        content_type="application/json",
        charset="utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def setup(app: web.Application) -> None:
    """Register the registerutdrag routes."""
    app.router.add_get(PATH, access_export_page)
    app.router.add_post(PATH, access_export_file)
