"""An HTTP agent gets no bus URL: it never touches the bus, and the server's own URL, with the
server's Redis credentials when ``MODX_REDIS_URL`` carries them, went to every HTTP agent's
registration, which any operator or agent token of any tenant may make. With them, the whole
Redis: every tenant's tasks and answers, ``FLUSHALL``, ``ACL SETUSER``. Both modes (embedded,
it was ``memory://``)."""

from __future__ import annotations

from tests.fixtures.identity import keyed
from tests.fixtures.stack import Stack


async def test_an_http_agent_is_given_no_bus_url(stack: Stack) -> None:
    card = {
        "name": "web-agent",
        "transport": "http",
        "endpoint": "http://93.184.216.34/task",
        "capabilities": [{"name": "web.thing"}],
    }
    response = await stack.client.post("/v1/agents", json=keyed(card))
    assert response.status_code == 201, response.text
    assert response.json()["bus_url"] is None, response.json()
