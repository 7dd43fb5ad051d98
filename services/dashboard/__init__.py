"""The admin dashboard at ``/dashboard``: server-rendered pages over the run history.

Pages (Jinja2, with a little vanilla JavaScript and hand-drawn SVG) show the overview, agents,
runs, one run's DAG, timeline, message trace, errors and proof, and dead letters. Server-Sent
Events keep the run list and run page current. A signed session cookie, obtained with the admin
token on the login page, guards all of it (see ``auth``).
"""

from __future__ import annotations

from fastapi import APIRouter

from services.dashboard import actions, live, pages

router = APIRouter()
for _module in (actions, live, pages):
    router.include_router(_module.router)

__all__ = ["router"]
