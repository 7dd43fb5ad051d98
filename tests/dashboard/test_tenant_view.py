"""The dashboard shows one tenant at a time (a cookie the header's form sets), or every tenant
in the system view."""

from __future__ import annotations

from pathlib import Path

from services.dashboard import auth
from tests.api.tenancy_world import SYSTEM_ADMIN, Admin, tenancy_app


async def test_one_tenant_at_a_time_or_all(tmp_path: Path) -> None:
    async with tenancy_app(tmp_path) as http:
        admin = Admin(http)
        alpha, beta = await admin.world("alpha"), await admin.world("beta")
        session = {auth.COOKIE: auth.issue(SYSTEM_ADMIN)}

        chosen = await http.post(
            "/dashboard/tenant",
            content="tenant=alpha&next=/dashboard/runs",
            headers={"content-type": "application/x-www-form-urlencoded"},
            cookies=session,
        )
        assert chosen.status_code == 303 and chosen.headers["location"] == "/dashboard/runs"
        assert f"{auth.TENANT_COOKIE}=alpha" in chosen.headers["set-cookie"]

        as_alpha = {**session, auth.TENANT_COOKIE: "alpha"}
        page = (await http.get("/dashboard/runs", cookies=as_alpha)).text
        assert alpha.run_id in page and beta.run_id not in page
        agents = (await http.get("/dashboard/agents", cookies=as_alpha)).text
        assert "agent-alpha" in agents and "agent-beta" not in agents
        assert (
            await http.get(f"/dashboard/runs/{beta.run_id}", cookies=as_alpha)
        ).status_code == 404
        assert (
            await http.get(f"/dashboard/runs/{alpha.run_id}", cookies=as_alpha)
        ).status_code == 200
        cancel = await http.post(f"/dashboard/runs/{beta.run_id}/cancel", cookies=as_alpha)
        assert cancel.status_code == 404

        # The system view: every tenant.
        page = (await http.get("/dashboard/runs", cookies=session)).text
        assert alpha.run_id in page and beta.run_id in page
        agents = (await http.get("/dashboard/agents", cookies=session)).text
        assert "agent-alpha" in agents and "agent-beta" in agents
