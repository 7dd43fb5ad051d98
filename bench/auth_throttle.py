"""How many tokens a guesser can try per second, without and with the auth throttle.

Serves MODX embedded with uvicorn on a free port and sends wrong Bearer tokens from 8
concurrent connections for ``--seconds``: a guess is a request answered 401 (the token was
checked); 429 means the throttle refused to check it. Three phases:

- ``off``: limits too high to matter (what a guesser got before the throttle);
- ``one address``: the default limits, every request from one address;
- ``many addresses``: the default limits, each request from a new address (``X-Forwarded-For``,
  which uvicorn honours from a trusted proxy: loopback by default).

Run: ``python -m bench.auth_throttle [--seconds 5]``.

Last run (2026-12-05, shared 2-core machine under load, 5 s per phase): off, 461 guesses
(92/s); one address, 9 answered 401 and the 10th 429 (the tenth failure closes the window),
then 784 refused: 10 tokens checked per 60 s window, 0.17/s; many addresses, 299 answered 401
then 565 refused: at most 300 per 60 s window from everyone together, 5/s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import tempfile
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from services.api.app import create_app
from services.config import Settings
from tests.fixtures.services import free_port

CONCURRENCY = 8


async def phase(seconds: float, spread: bool, **limits: Any) -> dict[str, float]:
    """Guesses (401s) and refusals (429s) in ``seconds`` against a fresh server."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), port=port, **limits)
        server = uvicorn.Server(
            uvicorn.Config(create_app(settings), port=port, log_level="warning")
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
            await asyncio.sleep(0.02)
        counts = {401: 0, 429: 0}
        addresses = itertools.count()
        loop = asyncio.get_running_loop()
        end = loop.time() + seconds

        async def guesser(http: httpx.AsyncClient) -> None:
            while loop.time() < end:
                headers = {"authorization": f"Bearer mdx_guess{next(addresses)}"}
                if spread:
                    n = next(addresses)
                    headers["x-forwarded-for"] = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
                response = await http.get("/v1/runs", headers=headers)
                counts[response.status_code] = counts.get(response.status_code, 0) + 1

        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            await asyncio.gather(*(guesser(http) for _ in range(CONCURRENCY)))
        server.should_exit = True
        await serving
    return {
        "guesses": counts[401],
        "guesses_per_s": counts[401] / seconds,
        "refused": counts[429],
    }


async def main(seconds: float) -> None:
    off = {"auth_fail_per_address": 10**9, "auth_fail_overall": 10**9}
    for name, spread, limits in (
        ("off", False, off),
        ("one address", False, {}),
        ("many addresses", True, {}),
    ):
        result = await phase(seconds, spread, **limits)
        print(
            f"{name:>15}: {result['guesses']:>6} guesses ({result['guesses_per_s']:.1f}/s), "
            f"{result['refused']} refused with 429"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    asyncio.run(main(parser.parse_args().seconds))
