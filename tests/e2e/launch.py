"""Runs one agent of ``tests.e2e.fleet`` as its own OS process: ``python -m tests.e2e.launch bus numbers``
or ``python -m tests.e2e.launch http doubler PORT``. Settings come from ``MODX_*``."""

from __future__ import annotations

import asyncio
import logging
import sys

from agents.sdk import Agent
from tests.e2e import fleet


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(message)s")
    mode, name = sys.argv[1], sys.argv[2]
    agent: Agent = getattr(fleet, name)
    if mode == "http":
        port = int(sys.argv[3])
        asyncio.run(agent.run_http("127.0.0.1", port, f"http://127.0.0.1:{port}"))
    else:
        agent.run_sync()


if __name__ == "__main__":
    main()
