"""The feature routes of the web application, in one list (the composition root adds them)."""

from __future__ import annotations

from intake.web import RouteSetup

ROUTES: list[RouteSetup] = []
