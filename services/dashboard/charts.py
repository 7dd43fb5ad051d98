"""Geometry of the SVG charts: runs by status over time, and the run timeline (Gantt).

Templates only draw what these functions place, so the arithmetic is tested in Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services.dashboard.queries import StatusSeries
from services.dashboard.trace import Attempt

STACK_ORDER = ("succeeded", "failed", "timed_out", "cancelled", "running", "pending")


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 x 10^n that is at least ``value`` (axis maxima)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * power >= value:
            return factor * power
    return 10.0 * power


@dataclass(frozen=True)
class Bar:
    """One rectangle of a chart."""

    x: float
    y: float
    w: float
    h: float
    status: str
    title: str


@dataclass(frozen=True)
class Tick:
    """An axis label at a position."""

    at: float
    label: str


@dataclass
class StatusChart:
    """Stacked bars of runs per bucket and status."""

    width: int
    height: int
    left: int
    top: int
    plot_h: int
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    total: int


def status_chart(series: StatusSeries, width: int = 1240, height: int = 240) -> StatusChart:
    """Lay out ``series`` as stacked bars, newest bucket on the right."""
    left, top, bottom = 44, 10, 26
    plot_w, plot_h = width - left - 8, height - top - bottom
    peak = max((sum(c.values()) for c in series.counts), default=0)
    y_max = nice_ceiling(peak)
    slot = plot_w / max(1, len(series.counts))
    bar_w = max(1.0, slot * 0.78)
    bars = []
    size = series.window.bucket_s
    for index, counts in enumerate(series.counts):
        x = left + index * slot + (slot - bar_w) / 2
        base = float(top + plot_h)
        when = series.start + timedelta(seconds=index * size)
        statuses = [s for s in STACK_ORDER if s in counts] + sorted(
            s for s in counts if s not in STACK_ORDER
        )
        for status in statuses:
            h = counts[status] / y_max * plot_h
            base -= h
            label = f"{when:%H:%M} UTC · {counts[status]} {status}"
            bars.append(
                Bar(round(x, 1), round(base, 1), round(bar_w, 1), round(h, 1), status, label)
            )
    y_ticks = [
        Tick(round(top + plot_h - plot_h * i / 4, 1), f"{y_max * i / 4:g}") for i in range(5)
    ]
    every = max(1, len(series.counts) // 6)
    fmt = "%H:%M" if size < 86400 / 4 or series.window.key != "7d" else "%a %H:%M"
    x_ticks = [
        Tick(
            round(left + (i + 0.5) * slot, 1),
            (series.start + timedelta(seconds=i * size)).strftime(fmt),
        )
        for i in range(0, len(series.counts), every)
    ]
    total = sum(sum(c.values()) for c in series.counts)
    return StatusChart(width, height, left, top, plot_h, bars, y_ticks, x_ticks, total)


@dataclass
class GanttRow:
    """One step row of the timeline, with its attempts as bars."""

    step_id: str
    status: str
    y: float
    bars: list[Bar] = field(default_factory=list)
    queued: list[Bar] = field(default_factory=list)
    labels: list[Tick] = field(default_factory=list)


@dataclass
class Gantt:
    """The run's timeline."""

    width: int
    height: int
    left: int
    rows: list[GanttRow]
    ticks: list[Tick]
    hidden: int
    row_h: int


def _tick_step(seconds: float) -> float:
    return nice_ceiling(seconds / 6) if seconds > 0 else 1


def _fmt_offset(seconds: float) -> str:
    if seconds == 0:
        return "0"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:g} s"
    return f"{seconds / 60:.1f} min"


def gantt(
    spans: Sequence[Attempt],
    statuses: dict[str, str],
    start: datetime,
    end: datetime,
    width: int = 1240,
    max_rows: int = 150,
) -> Gantt:
    """Bars per attempt: the queued part (scheduled → picked up) light, the run part solid."""
    left, row_h, top = 170, 26, 24
    plot_w = width - left - 36  # room for the last attempt's label
    total = max((end - start).total_seconds(), 0.001)
    scale = plot_w / total

    def x_of(when: datetime) -> float:
        return left + max(0.0, (when - start).total_seconds()) * scale

    order: list[str] = []
    for span in spans:
        if span.step_id not in order:
            order.append(span.step_id)
    hidden = max(0, len(order) - max_rows)
    rows: dict[str, GanttRow] = {}
    for index, step_id in enumerate(order[:max_rows]):
        rows[step_id] = GanttRow(step_id, statuses.get(step_id, "pending"), top + index * row_h)
    for span in spans:
        row = rows.get(span.step_id)
        if row is None:
            continue
        stop = span.ended_at or end
        picked = span.started_at or (span.ended_at if span.outcome != "running" else None)
        x0 = x_of(span.scheduled_at)
        x_pick = x_of(picked) if picked is not None else x_of(stop)
        x1 = max(x_of(stop), x0 + 3)  # an instant attempt still shows
        took = (stop - span.scheduled_at).total_seconds()
        title = (
            f"{span.step_id} attempt {span.attempt}: {span.outcome}, {_fmt_offset(round(took, 3))}"
        )
        if x_pick > x0 + 0.5:
            row.queued.append(
                Bar(round(x0, 1), row.y + 5, round(x_pick - x0, 1), row_h - 10, span.outcome, title)
            )
        row.bars.append(
            Bar(
                round(min(x_pick, x1 - 3), 1),
                row.y + 5,
                round(max(3.0, x1 - min(x_pick, x1 - 3)), 1),
                row_h - 10,
                span.outcome,
                title,
            )
        )
        row.labels.append(Tick(round(x1 + 3, 1), f"#{span.attempt}"))
    step = _tick_step(total)
    ticks = []
    count = int(total / step) + 1
    for i in range(count):
        at = i * step
        ticks.append(Tick(round(left + at * scale, 1), _fmt_offset(round(at, 6))))
    height = top + len(rows) * row_h + 8
    return Gantt(width, height, left, list(rows.values()), ticks, hidden, row_h)
