"""Markdown tables of each benchmark's results, and the "latest results" part of the README.

``markdown(data)`` renders one results file (as ``bench.harness.envelope`` builds it);
``chart(data, path)`` draws its PNG (``bench.charts``); ``update_readme`` copies the newest
table of every benchmark into ``bench/README.md`` between two markers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench import replicas
from bench.harness import RESULTS_DIR

README = Path(__file__).with_name("README.md")
START, END = "<!-- latest-results:start -->", "<!-- latest-results:end -->"
BENCHMARKS = ("bus", "orchestrator", "scaling", "replicas", "history", "legal")
TITLES = {
    "bus": "Bus against raw Redis",
    "orchestrator": "Orchestrator against Celery",
    "scaling": "Scaling",
    "replicas": "Orchestrator replicas: CPU per step",
    "history": "History: the present with 10 thousand and 10 million events",
    "legal": "Legal (SARA numeric cases)",
}


def fmt(summary: dict[str, Any] | None, digits: int = 1, scale: float = 1.0) -> str:
    """``median (min-max)`` of a summarized figure, or ``-`` when it is missing."""
    if not summary or summary.get("median") is None:
        return "-"
    spec = f",.{digits}f"
    low, mid, high = (scale * summary[k] for k in ("min", "median", "max"))
    if summary.get("n", 0) < 2:
        return format(mid, spec)
    return f"{format(mid, spec)} ({format(low, spec)}-{format(high, spec)})"


def num(value: float | None, digits: int = 1) -> str:
    """A number, or ``-``."""
    return "-" if value is None else format(value, f",.{digits}f")


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _header(data: dict[str, Any]) -> str:
    machine = data["machine"]
    before, after = data["load_average_before"], data["load_average_after"]
    quick = " (--quick: tiny sizes, not figures to quote)" if data["config"].get("quick") else ""
    return (
        f"## {TITLES.get(data['benchmark'], data['benchmark'])}{quick}\n\n"
        f"{data['date']}, {machine['cpus']} CPUs ({machine['cpu_model']}), "
        f"{machine['memory_gib']} GiB, Python {machine['python']}; load average (1/5/15 min) "
        f"{'/'.join(map(str, before))} before, {'/'.join(map(str, after))} after; "
        f"{data['duration_s']:.0f} s. Each cell: median of the repeats (min-max).\n\n"
    )


def _bus(r: dict[str, Any]) -> str:
    f = r["figures"]
    rows = []
    for c in r["config"]["consumers"]:
        for mode in ("raw", "bus"):
            p = f"{mode}.c{c}."
            rows.append(
                [
                    str(c),
                    "redis-py loop" if mode == "raw" else "RedisStreamsTransport",
                    fmt(f.get(p + "msgs_per_s"), 0),
                    fmt(f.get(p + "publish_per_s"), 0),
                    fmt(f.get(p + "drain_per_s"), 0),
                    fmt(f.get(p + "p50_ms"), 3),
                    fmt(f.get(p + "p99_ms"), 3),
                ]
            )
        rows.append(
            [
                str(c),
                "**ratio bus/raw**",
                fmt(f.get(f"ratio.c{c}.throughput"), 2),
                "",
                fmt(f.get(f"ratio.c{c}.drain"), 2),
                _ratio(f, f"bus.c{c}.p50_ms", f"raw.c{c}.p50_ms"),
                _ratio(f, f"bus.c{c}.p99_ms", f"raw.c{c}.p99_ms"),
            ]
        )
    return table(
        [
            "consumers",
            "path",
            "messages/s (live)",
            "publisher alone/s",
            "messages/s (draining a backlog)",
            "p50 ms at 1,000/s",
            "p99 ms at 1,000/s",
        ],
        rows,
    )


def _ratio(f: dict[str, Any], top: str, bottom: str) -> str:
    a, b = f.get(top, {}).get("median"), f.get(bottom, {}).get("median")
    return f"{a / b:.2f}x" if a and b else "-"


def _clients(r: dict[str, Any]) -> str:
    """The client pattern: each client submits its own run and waits on it."""
    f = r["figures"]
    count, steps = r["config"].get("clients"), r["config"]["steps"]
    patterns = [
        (t, mode)
        for t in ("modx-postgres", "celery", "modx-postgres-nofsync", "modx-embedded")
        for mode in ("wait", "stream", "result")
        if f"{t}.clients_{mode}.steps_per_s" in f
    ]
    if not patterns:
        return ""
    rows = [
        [
            t,
            {"wait": "/wait long-poll", "stream": "SSE stream", "result": "AsyncResult.get()"}[m],
            fmt(f[f"{t}.clients_{m}.steps_per_s"], 0),
            fmt(f.get(f"{t}.clients_{m}.p50_ms"), 1),
            fmt(f.get(f"{t}.clients_{m}.p99_ms"), 1),
        ]
        for t, m in patterns
    ]
    out = f"**{count} clients, each submitting its own {steps}-step run and waiting on it**\n\n"
    out += table(["target", "client waits with", "steps/s", "a client's p50 ms", "p99 ms"], rows)
    return out + (
        f"\nMODX / Celery with {count} waiting clients: /wait "
        f"{fmt(f.get('ratio.clients_wait.steps_per_s'), 2)}x, stream "
        f"{fmt(f.get('ratio.clients_stream.steps_per_s'), 2)}x (steps/s, paired within each "
        "repeat).\n\n"
    )


def _orchestrator(r: dict[str, Any]) -> str:
    f = r["figures"]
    durable = {
        "modx-postgres": "yes (PostgreSQL, fsync)",
        "celery": "**no**",
        "modx-postgres-nofsync": "yes, last commits may be lost on a crash",
        "modx-embedded": "yes (SQLite WAL)",
    }
    targets = [
        t
        for t in ("modx-postgres", "celery", "modx-postgres-nofsync", "modx-embedded")
        if f"{t}.steps_per_s" in f
    ]
    steps = r["config"]["steps"]
    rows = [
        [
            t,
            fmt(f[f"{t}.steps_per_s"], 0),
            fmt(f.get(f"{t}.p50_ms"), 1),
            fmt(f.get(f"{t}.p99_ms"), 1),
            fmt(f.get(f"{t}.p50_ms"), 2, 1 / steps),
            durable[t],
        ]
        for t in targets
    ]
    out = table(
        [
            "target",
            "steps/s",
            f"one {steps}-step run p50 ms",
            "p99 ms",
            "p50 ms per step",
            "durable history",
        ],
        rows,
    )
    out += (
        f"\nMODX / Celery: steps/s {fmt(f.get('ratio.steps_per_s'), 2)}x, one-run p50 "
        f"{fmt(f.get('ratio.p50'), 2)}x (paired within each repeat). Runs in flight: "
        f"{r['config']['runs']}; agent processes = Celery worker processes = "
        f"{r['config']['agents']}.\n\n"
    )
    out += _clients(r)
    b = r["breakdown"]
    out += "**Per step, one run alone (ms)** — measured from the outside:\n\n" + table(
        ["part", "ms", "how it is measured"],
        [
            ["whole step (modx-postgres p50 / steps)", num(b["per_step_ms"], 2), "end to end"],
            [
                "bus + agent",
                num(b["bus_and_agent_ms"], 2),
                "task → numbers agent → result, straight on Redis, p50",
            ],
            [
                f"PostgreSQL ({num(b['db_statements'], 0)} statement(s), committing itself)",
                num(b["pg_wait_ms"], 2),
                "replay: time off the CPU (round trip, execution, WAL flush)",
            ],
            [
                "DB driver CPU (asyncpg, SQLAlchemy Core)",
                num(b["driver_cpu_ms"], 2),
                "replay: CPU inside statement and commit calls",
            ],
            ["engine, pydantic, JSON CPU", num(b["python_ms"], 2), "replay: the other CPU"],
            ["waiting, wake-ups, other", num(b["waiting_and_other_ms"], 2), "the rest"],
            ["**overhead over the bus**", num(b["overhead_over_bus_ms"], 2), "whole step - bus"],
            [
                "(off the path: outbox housekeeping)",
                num(b["relay_off_path_ms"], 2),
                "replay of one relay pass",
            ],
        ],
    )
    phases = r["replay"]["phases"]
    out += (
        "\nReplayed transactions (median ms; PostgreSQL `SELECT 1` p50 "
        f"{num(r['pg_select1_ms']['p50'], 3)} ms):\n\n"
        + table(
            [
                "transaction",
                "wall",
                "statements",
                "waiting on PG",
                "of which COMMIT",
                "driver CPU",
                "engine CPU",
            ],
            [
                [
                    name,
                    num(p["wall_ms"], 2),
                    num(p["statements"], 0),
                    num(p["pg_wait_ms"], 2),
                    num(p["commit_ms"], 2),
                    num(p["driver_cpu_ms"], 2),
                    num(p["python_cpu_ms"], 2),
                ]
                for name, p in phases.items()
            ],
        )
    )
    return out + _cpu(f, targets) + _profile(r.get("profile", {}))


def _cpu(f: dict[str, Any], targets: list[str]) -> str:
    """CPU ms per step by process group, one run alone and under load."""
    groups = ("server", "agents", "postgres", "worker")
    rows = []
    for target in targets:
        for label, title in (("idle", "one run alone"), ("busy", "runs in flight")):
            cells = [fmt(f.get(f"{target}.cpu_per_step.{label}.{g}_ms"), 2) for g in groups]
            if any(c != "-" for c in cells):
                rows.append([target, title, *cells])
    if not rows:
        return ""
    return (
        "\n**CPU per step (ms)**, from /proc (PostgreSQL: the backends of the stack's own "
        "database, a lower bound; Redis is not counted on either side; the Celery worker is "
        "its main process and its pool):\n\n"
        + table(["target", "while", "MODX server", "agents", "PostgreSQL", "Celery worker"], rows)
    )


def _profile(p: dict[str, Any]) -> str:
    if not p.get("samples"):
        return f"\nProfile: {p.get('skipped', 'none')}.\n"
    cpu = p.get("cpu_ms_per_step", {})
    out = (
        f"\n**Profile of `modx serve`** (py-spy, {p['samples']:,} samples during a "
        f"throughput run at {num(p.get('steps_per_s_while_profiled'), 0)} steps/s; server "
        f"CPU {num(cpu.get('server'), 2)} ms per step, "
        f"{num(100 * p.get('server_cpu_utilization', 0), 0)}% of one CPU; agents "
        f"{num(cpu.get('agents'), 2)} ms per step). Shares of the server's CPU samples:\n\n"
    )
    layers = list(p["layers"].items())[:8]
    focus = sorted(p.get("focus", {}).items(), key=lambda kv: -kv[1])
    out += table(["layer (innermost frame)", "%"], [[k, num(v)] for k, v in layers])
    out += "\n" + table(["hot-path item (on the stack)", "%"], [[k, num(v)] for k, v in focus])
    out += "\n" + table(
        ["top functions by self time", "%"],
        [[f"`{e['function']}`", num(e["percent"])] for e in p["top_self"][:10]],
    )
    return out


def _scaling(r: dict[str, Any]) -> str:
    f, cfg = r["figures"], r["config"]
    out = table(
        ["agent processes", "steps/s"],
        [[str(n), fmt(f.get(f"agents.{n}.steps_per_s"), 0)] for n in cfg["agents"]],
    )
    out += "\n" + table(
        ["orchestrator replicas", f"steps/s ({r['agents_during_replicas']} agents)"],
        [[str(n), fmt(f.get(f"replicas.{n}.steps_per_s"), 0)] for n in cfg["replicas"]],
    )
    out += "\n" + table(
        ["steps in the run", "one run alone, p50 ms", "p50 ms per step"],
        [
            [str(n), fmt(f.get(f"length.{n}.p50_ms"), 1), fmt(f.get(f"length.{n}.per_step_ms"), 2)]
            for n in cfg["lengths"]
        ],
    )
    kinds = [k for k, ok in r["discovery_supported"].items() if ok]
    labels = {
        "name": "`?name=` p50 / p99 ms",
        "produces": "`?produces=` p50 / p99 ms",
        "q": "`?q=` p50 / p99 ms",
    }
    rows = [
        [f"{n:,}"]
        + [
            f"{fmt(f.get(f'discovery.{k}.{n}.p50_ms'), 1)} / "
            f"{fmt(f.get(f'discovery.{k}.{n}.p99_ms'), 1)}"
            for k in kinds
        ]
        for n in cfg["capabilities"]
    ]
    return out + "\n" + table(["registered capabilities"] + [labels[k] for k in kinds], rows)


def _replicas(r: dict[str, Any]) -> str:
    f, cfg = r["figures"], r["config"]

    def cell(key: str, name: str, digits: int = 2) -> str:
        return fmt(f.get(f"{key}.{name}"), digits)

    groups = ("server", "agents", "postgres")
    rows = [
        [
            key.removeprefix("replicas.").replace(".again", " (again)"),
            cell(key, "steps_per_s", 0),
            *(cell(key, f"cpu_per_step.{g}_ms") for g in groups),
            cell(key, "cpu_per_step.total_ms"),
            cell(key, "marginal_per_step.total_ms"),
            " / ".join(cell(key, f"idle_cpu.{g}_ms_per_s", 0) for g in groups),
            cell(key, "forwarded_per_step"),
            cell(key, "conflicts_per_step", 3),
        ]
        for key in replicas.phases(tuple(cfg["replicas"]))
    ]
    out = table(
        [
            "replicas",
            "steps/s",
            "CPU ms/step: servers",
            "agents",
            "PostgreSQL",
            "total",
            "total without idle",
            "idle CPU ms/s (servers / agents / PostgreSQL)",
            "answers forwarded per step",
            "conflicts per step",
        ],
        rows,
    )
    first, last = cfg["replicas"][0], max(cfg["replicas"])
    for key, what in (
        ("cpu_growth", "CPU per step"),
        ("marginal_growth", "CPU per step without idle"),
    ):
        growth = r.get(key)
        if growth is not None:
            out += (
                f"\n{what} from {first} to {last} replicas: {100 * growth:+.1f}% "
                "(target: at most +10%)."
            )
    return out + "\n"


def _legal(r: dict[str, Any]) -> str:
    f = r["figures"]
    wf, rs = r["workflow"], r["reasoner"]
    conc = r["config"]["concurrency"]
    rows = [
        [
            "`sara-tax` workflow (embedded)",
            fmt(f.get("workflow.cases_per_s"), 1),
            fmt(f.get("workflow.p50_ms"), 0),
            fmt(f.get("workflow.p99_ms"), 0),
            f"{min(wf['exact_per_repeat'])}/{wf['answers_per_repeat']}",
        ],
        [
            "reasoner alone (parse_case + ReasonerPool)",
            fmt(f.get("reasoner.cases_per_s"), 1),
            fmt(f.get("reasoner.p50_ms"), 0),
            fmt(f.get("reasoner.p99_ms"), 0),
            f"{min(rs['exact_per_repeat'])}/{rs['answers_per_repeat']}",
        ],
    ]
    out = table(
        ["path", "cases/s", "p50 ms per case", "p99 ms per case", "exact (worst repeat)"], rows
    )
    return out + (
        f"\nWorkflow cases/s with {conc} cases in flight, latency one case at a time. "
        f"Reasoner: cases/s one at a time (parse + query); queries alone with {conc} in flight "
        f"{fmt(f.get('reasoner.queries_per_s_concurrent'), 1)}/s; parse p50 "
        f"{fmt(f.get('reasoner.parse_p50_ms'), 1)} ms, query p50 "
        f"{fmt(f.get('reasoner.query_p50_ms'), 1)} ms, p99 "
        f"{fmt(f.get('reasoner.query_p99_ms'), 1)} ms.\n"
    )


HISTORY_ROWS = {
    "run_list": "run list (`GET /v1/runs?limit=50`)",
    "run_list_page": "its page halfway down the history (`cursor=`)",
    "run_detail": "a recent run (`GET /v1/runs/{id}`)",
    "run_events": "its events (`/events`)",
    "wait_finished": "`/wait` on a finished run",
    "run_and_wait": "a 10-step run, submit to `/wait` returning",
    "old_run_detail": "an old run (in an old partition)",
    "old_run_events": "its events",
}


def _history(r: dict[str, Any]) -> str:
    small, large = r["phases"]["small"], r["phases"]["large"]
    rows = []
    for key, label in HISTORY_ROWS.items():
        a, b = small["figures"][key], large["figures"][key]
        rows.append(
            [
                label,
                f"{a['p50_ms']:.2f} / {a['p99_ms']:.2f}",
                f"{b['p50_ms']:.2f} / {b['p99_ms']:.2f}",
                f"{b['p50_ms'] / a['p50_ms']:.2f}x" if a["p50_ms"] else "-",
            ]
        )
    header = [
        "request",
        f"{small['events']:,} events: p50 / p99 ms",
        f"{large['events']:,} events: p50 / p99 ms",
        "p50 large / small",
    ]
    took = r["generation_s"].get("large")
    made = (
        f"generating it took {took:,.0f} s"
        if took is not None
        else f"generated beforehand (`python -m bench.history generate`: {r['config']['reuse']})"
    )
    return table(header, rows) + (
        f"\n{large['runs']:,} runs and {large['ledger_entries']:,} ledger entries in the large "
        f"database; {made}.\n"
    )


RENDERERS: dict[str, Callable[[dict[str, Any]], str]] = {
    "bus": _bus,
    "orchestrator": _orchestrator,
    "scaling": _scaling,
    "replicas": _replicas,
    "history": _history,
    "legal": _legal,
}


def markdown(data: dict[str, Any]) -> str:
    """One benchmark's results as Markdown: header, tables, notes."""
    if "error" in data["results"]:
        body = f"Failed: `{data['results']['error']}`\n"
    else:
        body = RENDERERS[data["benchmark"]](data["results"])
    notes = "".join(f"- {note}\n" for note in data.get("notes", []))
    return _header(data) + body + (f"\nNotes:\n\n{notes}" if notes else "")


def chart(data: dict[str, Any], path: Path) -> None:
    """Draw the benchmark's PNG."""
    from bench import charts

    charts.draw(data, path)


def machine_paragraph(data: dict[str, Any]) -> str:
    """Where the latest figures come from."""
    m = data["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items() if v)
    return (
        f"Measured on {data['date']}: {m['cpus']} CPUs ({m['cpu_model']}, `nproc` = {m['cpus']}), "
        f"{m['memory_gib']} GiB of memory, Linux {m['kernel']}, Python {m['python']}; "
        f"{packages}. The machine is shared with other engineers' test runs: each table gives "
        "the load average before and after its benchmark.\n"
    )


def update_readme(results_dir: Path = RESULTS_DIR, readme: Path = README) -> bool:
    """Copy the newest table of each benchmark into the README; False without markers."""
    text = readme.read_text()
    if START not in text or END not in text:
        return False
    parts = []
    newest = sorted(results_dir.glob("????-??-??-*.json"))
    if newest:
        parts.append(machine_paragraph(json.loads(newest[-1].read_text())))
    for name in BENCHMARKS:
        found = sorted(results_dir.glob(f"????-??-??-{name}.md"))
        if found:
            body = re.sub(r"^## ", "### ", found[-1].read_text(), flags=re.M)
            parts.append(body + f"\n![{name}](results/{found[-1].with_suffix('.png').name})\n")
    block = START + "\n\n" + "\n".join(parts) + "\n" + END
    readme.write_text(text[: text.index(START)] + block + text[text.index(END) + len(END) :])
    return True


def rerender(results_dir: Path = RESULTS_DIR) -> None:
    """Draw every results file's Markdown and PNG again from its JSON, and update the README."""
    for path in sorted(results_dir.glob("????-??-??-*.json")):
        data = json.loads(path.read_text())
        path.with_suffix(".md").write_text(markdown(data))
        chart(data, path.with_suffix(".png"))
    update_readme(results_dir)


if __name__ == "__main__":
    rerender()
