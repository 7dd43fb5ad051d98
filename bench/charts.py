"""The PNG chart of each benchmark (matplotlib, no display needed).

Bars and points are medians of the repeats; error bars span min to max.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

COLORS = {
    "raw": "#7f7f7f",
    "bus": "#1f77b4",
    "modx-postgres": "#1f77b4",
    "celery": "#2ca02c",
    "modx-postgres-nofsync": "#9ecae1",
    "modx-embedded": "#ff7f0e",
}


def _med(f: dict[str, Any], key: str) -> tuple[float, float, float]:
    """(median, distance down to min, distance up to max), zeros when missing."""
    s = f.get(key)
    if not s or s.get("median") is None:
        return 0.0, 0.0, 0.0
    return s["median"], s["median"] - s["min"], s["max"] - s["median"]


def _bars(
    ax: Axes,
    labels: list[str],
    f: dict[str, Any],
    keys: list[str],
    colors: list[str],
    title: str,
    ylabel: str,
    scale: float = 1.0,
) -> None:
    values = [_med(f, k) for k in keys]
    ax.bar(
        labels,
        [scale * v[0] for v in values],
        color=colors,
        yerr=[[scale * v[1] for v in values], [scale * v[2] for v in values]],
        capsize=4,
    )
    for i, v in enumerate(values):
        value = scale * v[0]
        ax.annotate(
            f"{value:,.0f}" if value >= 100 else f"{value:.3g}",
            (i, scale * v[0]),
            ha="center",
            va="bottom",
            fontsize=8,
            xytext=(0, 3),
            textcoords="offset points",
        )
    ax.set_title(title, fontsize=10)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelsize=8)


def _bus(data: dict[str, Any], axes: list[Axes]) -> None:
    f, consumers = data["results"]["figures"], data["results"]["config"]["consumers"]
    labels = [f"{m} x{c}" for c in consumers for m in ("raw", "bus")]
    colors = [COLORS[m] for _ in consumers for m in ("raw", "bus")]
    keys = [f"{m}.c{c}." for c in consumers for m in ("raw", "bus")]
    _bars(
        axes[0],
        labels,
        f,
        [k + "msgs_per_s" for k in keys],
        colors,
        "publishing while consuming (xN consumers)",
        "messages/s",
    )
    _bars(
        axes[1],
        labels,
        f,
        [k + "drain_per_s" for k in keys],
        colors,
        "consumers draining a backlog",
        "messages/s",
    )
    _bars(
        axes[2],
        labels,
        f,
        [k + "p50_ms" for k in keys],
        colors,
        "publish-to-handler p50 at 1,000 msg/s (dots: p99)",
        "ms",
    )
    p99 = [_med(f, k + "p99_ms")[0] for k in keys]
    twin = axes[2].twinx()
    twin.plot(range(len(keys)), p99, "ko")
    twin.set_ylabel("p99 ms")
    twin.set_ylim(bottom=0)


def _orchestrator(data: dict[str, Any], axes: list[Axes]) -> None:
    r = data["results"]
    f = r["figures"]
    targets = [t for t in COLORS if f"{t}.steps_per_s" in f]
    labels = [t.replace("modx-postgres-", "pg-").replace("modx-", "") for t in targets]
    colors = [COLORS[t] for t in targets]
    _bars(
        axes[0],
        labels,
        f,
        [f"{t}.steps_per_s" for t in targets],
        colors,
        f"{r['config']['steps']}-step chains, {r['config']['runs']} in flight",
        "steps/s",
    )
    _bars(
        axes[1], labels, f, [f"{t}.p50_ms" for t in targets], colors, "one chain alone, p50", "ms"
    )
    b = r["breakdown"]
    parts = [
        ("bus + agent", b["bus_and_agent_ms"], "#2ca02c"),
        ("PostgreSQL", b["pg_wait_ms"], "#d62728"),
        ("DB driver CPU", b["driver_cpu_ms"], "#ff9896"),
        ("engine/ORM CPU", b["python_ms"], "#9467bd"),
        ("waiting/other", max(0.0, b["waiting_and_other_ms"]), "#c7c7c7"),
    ]
    bottom = 0.0
    for label, value, color in parts:
        axes[2].bar(
            ["MODX step"], [value], bottom=bottom, color=color, label=f"{label} {value:.1f}"
        )
        bottom += value
    celery_step = _med(f, "celery.p50_ms")[0] / r["config"]["steps"]
    axes[2].bar(["Celery step"], [celery_step], color=COLORS["celery"])
    axes[2].set_title("one step of a run alone", fontsize=10)
    axes[2].set_ylabel("ms")
    axes[2].legend(fontsize=7)


def _scaling(data: dict[str, Any], axes: list[Axes]) -> None:
    r = data["results"]
    f, cfg = r["figures"], r["config"]
    for key, values, label in (
        ("agents", cfg["agents"], "agent processes"),
        ("replicas", cfg["replicas"], "orchestrator replicas"),
    ):
        points = [_med(f, f"{key}.{n}.steps_per_s") for n in values]
        axes[0].errorbar(
            values,
            [p[0] for p in points],
            fmt="o-",
            capsize=4,
            label=label,
            yerr=[[p[1] for p in points], [p[2] for p in points]],
        )
    axes[0].set_title("throughput", fontsize=10)
    axes[0].set_xlabel("processes")
    axes[0].set_ylabel("steps/s")
    axes[0].set_ylim(bottom=0)
    axes[0].legend(fontsize=8)
    lengths = cfg["lengths"]
    points = [_med(f, f"length.{n}.p50_ms") for n in lengths]
    axes[1].errorbar(
        lengths,
        [p[0] for p in points],
        fmt="o-",
        capsize=4,
        yerr=[[p[1] for p in points], [p[2] for p in points]],
    )
    axes[1].set_xscale("log")
    axes[1].set_yscale("log")
    axes[1].set_title("one run alone, p50", fontsize=10)
    axes[1].set_xlabel("steps")
    axes[1].set_ylabel("ms")
    for kind, ok in r["discovery_supported"].items():
        if not ok:
            continue
        sizes = cfg["capabilities"]
        points = [_med(f, f"discovery.{kind}.{n}.p50_ms") for n in sizes]
        axes[2].errorbar(
            sizes,
            [p[0] for p in points],
            fmt="o-",
            capsize=4,
            label=f"?{kind}=",
            yerr=[[p[1] for p in points], [p[2] for p in points]],
        )
    axes[2].set_xscale("log")
    axes[2].set_yscale("log")
    axes[2].set_title("discovery p50", fontsize=10)
    axes[2].set_xlabel("registered capabilities")
    axes[2].set_ylabel("ms")
    axes[2].legend(fontsize=8)


def _legal(data: dict[str, Any], axes: list[Axes]) -> None:
    f = data["results"]["figures"]
    labels, colors = ["workflow", "reasoner"], ["#1f77b4", "#ff7f0e"]
    _bars(
        axes[0],
        labels,
        f,
        ["workflow.cases_per_s", "reasoner.cases_per_s"],
        colors,
        "cases/s",
        "cases/s",
    )
    _bars(axes[1], labels, f, ["workflow.p50_ms", "reasoner.p50_ms"], colors, "per case, p50", "ms")
    _bars(axes[2], labels, f, ["workflow.p99_ms", "reasoner.p99_ms"], colors, "per case, p99", "ms")


def _replicas(data: dict[str, Any], axes: list[Axes]) -> None:
    r = data["results"]
    f, counts = r["figures"], r["config"]["replicas"]
    panels = (
        (("steps_per_s",), "throughput", "steps/s"),
        (
            ("cpu_per_step.total_ms", "marginal_per_step.total_ms"),
            "CPU per step: all, and without idle",
            "ms (servers + agents + PostgreSQL)",
        ),
        (("conflicts_per_step",), "conflicts per step", "changes redone"),
    )
    for axis, (keys, title, unit) in zip(axes, panels, strict=True):
        for key in keys:
            points = [_med(f, f"replicas.{n}.{key}") for n in counts]
            axis.errorbar(
                counts,
                [p[0] for p in points],
                fmt="o-",
                capsize=4,
                label=key.split(".")[0].replace("_", " "),
                yerr=[[p[1] for p in points], [p[2] for p in points]],
            )
        if len(keys) > 1:
            axis.legend(fontsize=8)
        axis.set_title(title, fontsize=10)
        axis.set_xlabel("orchestrator replicas")
        axis.set_xticks(list(counts))
        axis.set_ylabel(unit)
        axis.set_ylim(bottom=0)


def _history(data: dict[str, Any], axes: list[Axes]) -> None:
    phases = data["results"]["phases"]
    keys = list(phases["small"]["figures"])
    labels = [k.replace("_", " ") for k in keys]
    for axis, stat, title in (
        (axes[0], "p50_ms", "p50"),
        (axes[1], "p99_ms", "p99"),
    ):
        width = 0.4
        for offset, name in ((-width / 2, "small"), (width / 2, "large")):
            values = [phases[name]["figures"][k][stat] for k in keys]
            axis.barh(
                [i + offset for i in range(len(keys))],
                values,
                height=width,
                label=f"{phases[name]['events']:,} events",
            )
        axis.set_yticks(range(len(keys)), labels, fontsize=8)
        axis.set_xlabel("ms")
        axis.set_title(title, fontsize=10)
        axis.legend(fontsize=8)
    ratios = [
        phases["large"]["figures"][k]["p50_ms"] / max(phases["small"]["figures"][k]["p50_ms"], 1e-9)
        for k in keys
    ]
    axes[2].barh(range(len(keys)), ratios)
    axes[2].axvline(1.0, color="grey", linestyle="--")
    axes[2].set_yticks(range(len(keys)), labels, fontsize=8)
    axes[2].set_title("p50, large / small", fontsize=10)


DRAW = {
    "bus": _bus,
    "orchestrator": _orchestrator,
    "scaling": _scaling,
    "replicas": _replicas,
    "history": _history,
    "legal": _legal,
}


def draw(data: dict[str, Any], path: Path) -> None:
    """Three panels side by side, titled with the date and the load average."""
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    if "error" in data["results"]:
        axes[1].text(0.5, 0.5, f"failed: {data['results']['error'][:80]}", ha="center")
    else:
        DRAW[data["benchmark"]](data, list(axes))
    load = "/".join(map(str, data["load_average_before"]))
    quick = " — quick (tiny sizes)" if data["config"].get("quick") else ""
    fig.suptitle(
        f"MODX benchmark: {data['benchmark']} — {data['date']}, "
        f"{data['machine']['cpus']} CPUs, load {load}{quick}",
        fontsize=11,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
