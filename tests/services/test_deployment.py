"""The compose file and the Dockerfile agree with the code: settings, ports, agent targets."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from agents.sdk import AgentSettings, load_agent
from services.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def env_names(model: type[Settings] | type[AgentSettings]) -> set[str]:
    names = set()
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        names.add(alias if isinstance(alias, str) else f"MODX_{name.upper()}")
    return names


def test_every_modx_variable_in_compose_is_a_setting() -> None:
    known = env_names(Settings) | env_names(AgentSettings)
    for name, service in compose()["services"].items():
        for variable in service.get("environment", {}) or {}:
            if variable.startswith("MODX_"):
                assert variable in known, f"{name}: {variable} is not a MODX setting"


def test_api_replicas_run_the_distributed_mode_on_the_configured_port() -> None:
    services = compose()["services"]
    apis = [s for s in services.values() if s.get("command", [])[:2] == ["modx", "serve"]]
    assert len(apis) == 2
    for api in apis:
        env = api["environment"]
        assert (
            env["MODX_DATABASE_URL"].startswith("postgresql+asyncpg://")
            and "@postgres:5432/" in env["MODX_DATABASE_URL"]
        )
        assert env["MODX_REDIS_URL"].startswith("redis://redis:6379")
        port = api["command"][api["command"].index("--port") + 1]
        assert any(mapping.endswith(f":{port}") for mapping in api["ports"])
        assert {"postgres", "redis"} <= set(api["depends_on"])
    assert Settings().port == 8000 == int(apis[0]["command"][-1])


def test_agent_services_name_importable_agents_and_a_reachable_api() -> None:
    services = compose()["services"]
    agents = {
        n: s for n, s in services.items() if s.get("command", [])[:3] == ["modx", "agent", "run"]
    }
    assert agents, "the built-in agents run as their own services"
    for name, service in agents.items():
        target = service["command"][3]
        agent = load_agent(target)
        assert agent.capabilities, name
        url = service["environment"]["MODX_URL"]
        host, port = re.match(r"http://([\w-]+):(\d+)", url).groups()  # type: ignore[union-attr]
        assert host in services and port == "8000"


def test_dockerfile_installs_the_packages_and_prolog() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "swi-prolog-nox" in text
    for package in ("bus", "services", "agents", "ontology"):
        assert f"COPY {package} ./{package}" in text
    assert 'CMD ["modx", "serve"' in text


def test_replicas_share_one_ledger_key_made_before_they_start() -> None:
    services = compose()["services"]
    maker = services["ledger-key"]
    assert (
        maker["command"][:3] == ["modx", "ledger", "keygen"] and "--if-missing" in maker["command"]
    )
    key_file = maker["command"][3]
    apis = [s for s in services.values() if s.get("command", [])[:2] == ["modx", "serve"]]
    files = {api["environment"]["MODX_LEDGER_CHECKPOINT_FILE"] for api in apis}
    assert len(files) == len(apis)  # each replica publishes its own copy
    for api in apis:
        assert api["environment"]["MODX_LEDGER_KEY_FILE"] == key_file
        assert api["depends_on"]["ledger-key"] == {"condition": "service_completed_successfully"}
