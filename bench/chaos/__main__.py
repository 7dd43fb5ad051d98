"""``python -m bench.chaos [--runs N] [--rate R] [SCENARIO ...]``: the table of every scenario."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from pathlib import Path

from bench.chaos.scenarios import SCENARIOS, Result, run_scenario, table
from bench.chaos.servers import PrivatePostgres


async def main(names: list[str], runs: int, rate: float, folder: Path) -> list[Result]:
    postgres = PrivatePostgres(folder / "postgres")
    await asyncio.to_thread(postgres.init)
    await asyncio.to_thread(postgres.start)
    results = []
    try:
        for name in names:
            result = await run_scenario(name, folder, postgres, runs=runs, rate=rate)
            print(table([result]).splitlines()[-1], flush=True)
            results.append(result)
    finally:
        postgres.stop()
    return results


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenarios", nargs="*", choices=[*SCENARIOS, []], default=[])
    parser.add_argument("--runs", type=int, default=1000, help="runs per scenario")
    parser.add_argument("--rate", type=float, default=40.0, help="runs submitted per second")
    parser.add_argument("--keep", type=Path, help="keep the logs in this folder")
    args = parser.parse_args()
    names = args.scenarios or list(SCENARIOS)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        results = asyncio.run(main(names, args.runs, args.rate, args.keep))
    else:
        with tempfile.TemporaryDirectory(prefix="modx-chaos-") as tmp:
            folder = Path(tmp)
            folder.chmod(0o755)
            results = asyncio.run(main(names, args.runs, args.rate, folder))
    print()
    print(table(results))


if __name__ == "__main__":
    cli()
