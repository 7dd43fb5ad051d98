"""Embedded MODX (SQLite, in-process bus) with the no-op ``numbers`` agent inside, as a process.

    python -m bench.embedded_server --port 8123 --data-dir /tmp/modx-embedded

The token is ``MODX_API_TOKEN``. Runs until SIGTERM or SIGINT. The benchmarks drive it over
HTTP like the distributed stack, to show what PostgreSQL and Redis cost against SQLite and
an in-process bus.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from services.embedded import embedded_service
from tests.e2e.fleet import numbers


async def _serve(port: int, data_dir: Path) -> None:
    async with embedded_service(data_dir, port=port, agents=[numbers]) as service:
        await service.server.stop_requested.wait()


def main() -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(_serve(args.port, args.data_dir))


if __name__ == "__main__":
    main()
