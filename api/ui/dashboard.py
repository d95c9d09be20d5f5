"""The dashboard: operational figures from core.store.stats, laid out as server-side SVG charts."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from core.store import stats
from core.store.stats import ApprovalTiming, CaseFact

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 620, 210, 40, 34, 8
CLOSED = {"resolved", "rejected", "failed"}
PALETTE_SIZE = 12


@dataclass(frozen=True)
class Bar:
    """One rectangle of a chart, with the figure it stands for."""

    x: float
    y: float
    width: float
    height: float
    series: int
    tooltip: str


@dataclass(frozen=True)
class Chart:
    """A bar chart already laid out in SVG coordinates; the template only draws it."""

    title: str
    bars: list[Bar]
    x_labels: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    legend: list[tuple[int, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    empty: bool = False
    # The figures behind the bars, for the CSV export: one key per column, one list per series.
    slug: str = ""
    keys: list[str] = field(default_factory=list)
    series: dict[str, list[float]] = field(default_factory=dict)
    unit: str = ""


@dataclass(frozen=True)
class Tile:
    """One headline figure."""

    label: str
    value: str
    note: str
    number: float | None = None  # the figure unformatted, for the CSV export
    unit: str = ""


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard page shows."""

    days: int
    tiles: list[Tile]
    charts: list[Chart]


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    return next(m * magnitude for m in (1, 2, 4, 6, 8, 10) if m * magnitude >= value)


def bar_chart(
    title: str,
    labels: list[str],
    series: dict[str, list[float]],
    *,
    unit: str = "",
    y_max: float | None = None,
    slug: str = "",
    keys: list[str] | None = None,
) -> Chart:
    """Lays out stacked bars: one column per label, one stacked segment per series."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    top = y_max or _nice_max(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(labels), 1)
    bars: list[Bar] = []
    for i, label in enumerate(labels):
        base = 0.0
        for s, (name, values) in enumerate(series.items()):
            if values[i] <= 0:
                continue
            h = plot_h * values[i] / top
            y = TOP + plot_h - plot_h * base / top - h
            tip = f"{label} · {name}: {_fmt(values[i])}{unit}"
            bars.append(Bar(LEFT + i * slot + slot * 0.15, y, slot * 0.7, h, s % PALETTE_SIZE, tip))
            base += values[i]
    step = max(1, math.ceil(len(labels) / 10))
    # Counted from the right, so that the newest day, where the eye goes first, has its label.
    last = len(labels) - 1
    x_labels = [
        (LEFT + i * slot + slot / 2, lab) for i, lab in enumerate(labels) if (last - i) % step == 0
    ]
    y_ticks = [(TOP + plot_h * (1 - f), _fmt(top * f) + unit) for f in (0, 0.5, 1)]
    legend = [(s % PALETTE_SIZE, name) for s, name in enumerate(series)] if len(series) > 1 else []
    return Chart(
        title,
        bars,
        x_labels,
        y_ticks,
        legend,
        empty=not any(totals),
        slug=slug,
        keys=keys or labels,
        series=series,
        unit=unit,
    )


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _days(today: date, days: int) -> list[date]:
    return [today - timedelta(days=days - 1 - i) for i in range(days)]


def detection_day(fact: CaseFact) -> date:
    """Returns the UTC day the orchestrator detected the stall; the day received if unknown."""
    return (fact.detected_at or fact.created_at).date()


def _per_day(
    facts: list[CaseFact], days: list[date], key: str, top: int = 8
) -> dict[str, list[float]]:
    """Counts cases per day and per value of one attribute; rare values are folded into `other`."""
    totals: dict[str, int] = {}
    for fact in facts:
        name = str(getattr(fact, key) or "pending")
        totals[name] = totals.get(name, 0) + 1
    kept = sorted(totals, key=lambda n: -totals[n])[:top]
    series: dict[str, list[float]] = {n: [0.0] * len(days) for n in kept}
    index = {d: i for i, d in enumerate(days)}
    for fact in facts:
        i = index.get(detection_day(fact))
        if i is not None:
            name = str(getattr(fact, key) or "pending")
            series.setdefault(name if name in kept else "other", [0.0] * len(days))[i] += 1
    return series


def breached(fact: CaseFact, now: datetime) -> bool:
    """Tells whether a case missed its SLA: closed after it, or still open past it."""
    if fact.sla_due_at is None:
        return False
    finished = fact.updated_at if fact.status in CLOSED else now
    return finished > fact.sla_due_at


def _sla_series(facts: list[CaseFact], days: list[date], now: datetime) -> dict[str, list[float]]:
    series = {"within SLA": [0.0] * len(days), "breached": [0.0] * len(days)}
    index = {d: i for i, d in enumerate(days)}
    for fact in facts:
        i = index.get(detection_day(fact))
        if i is not None and fact.sla_due_at is not None:
            series["breached" if breached(fact, now) else "within SLA"][i] += 1
    return series


def _histogram(facts: list[CaseFact]) -> tuple[list[str], dict[str, list[float]]]:
    bins = [0.0] * 10
    for fact in facts:
        if fact.confidence is not None:
            bins[min(9, int(fact.confidence * 10))] += 1
    return [f"{i / 10:.1f}" for i in range(10)], {"cases": bins}


def _accuracy(facts: list[CaseFact], days: list[date], touched: set[str]) -> list[float]:
    """Returns, per day, the share of reviewed cases whose cause reviewers did not correct."""
    hits, seen = [0] * len(days), [0] * len(days)
    index = {d: i for i, d in enumerate(days)}
    for fact in facts:
        i = index.get(detection_day(fact))
        if i is None or fact.cause is None or not _reviewed(fact, touched):
            continue
        seen[i] += 1
        hits[i] += int(fact.corrected_cause in (None, fact.cause))
    return [100 * h / n if n else 0.0 for h, n in zip(hits, seen, strict=True)]


def _reviewed(fact: CaseFact, touched: set[str]) -> bool:
    return fact.case_id in touched or fact.corrected_cause is not None


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h {minutes % 60}m" if minutes >= 60 else f"{minutes}m"


def tiles(
    facts: list[CaseFact], timings: list[ApprovalTiming], touched: set[str], now: datetime
) -> list[Tile]:
    """Returns the headline figures: rates, median time to approve, accuracy and corrections."""
    closed = [f for f in facts if f.status in CLOSED]
    with_approvals = {t.case_id for t in timings}
    auto = [f for f in closed if f.status == "resolved" and f.case_id not in with_approvals]
    manual = [f for f in facts if _reviewed(f, touched)]
    waits = [
        (t.decided_at - t.created_at).total_seconds()
        for t in timings
        if t.status == "approved" and t.decided_at
    ]
    classified = [f for f in facts if f.cause is not None]
    corrected = [f for f in classified if f.corrected_cause not in (None, f.cause)]
    reviewed = [f for f in classified if _reviewed(f, touched)]
    sla = [f for f in facts if f.sla_due_at is not None]
    median_wait = statistics.median(waits) if waits else None
    return [
        Tile("Cases", str(len(facts)), f"{len(closed)} closed", len(facts)),
        Tile(
            "SLA breaches",
            str(breaches := sum(breached(f, now) for f in sla)),
            f"of {len(sla)} with an SLA",
            breaches,
        ),
        _rate("Auto-resolution rate", len(auto), len(closed), "closed with no approval"),
        _rate("Manual touch rate", len(manual), len(facts), "a person voted or corrected"),
        Tile(
            "Median time to approve",
            _duration(median_wait),
            f"{len(waits)} approvals",
            None if median_wait is None else round(median_wait, 1),
            "s",
        ),
        _rate(
            "Classifier accuracy",
            len(reviewed) - len(corrected),
            len(reviewed),
            f"against reviewers, {len(reviewed)} reviewed",
        ),
        _rate("Correction rate", len(corrected), len(classified), f"{len(corrected)} corrected"),
    ]


def _rate(label: str, part: int, whole: int, note: str) -> Tile:
    number = round(100 * part / whole, 1) if whole else None
    return Tile(label, _pct(part, whole), note, number, "%")


async def build_dashboard(conn: AsyncConnection, now: datetime, days: int) -> Dashboard:
    """Reads the figures of the last `days` days and lays out the charts."""
    since = datetime.combine(now.date() - timedelta(days=days - 1), datetime.min.time(), now.tzinfo)
    facts = await stats.case_facts(conn, since)
    timings = await stats.approval_timings(conn, since)
    touched = await stats.touched_case_ids(conn, since)
    span = _days(now.date(), days)
    labels, keys = [d.strftime("%m-%d") for d in span], [d.isoformat() for d in span]
    hist_labels, hist = _histogram(facts)
    charts = [
        bar_chart(
            "Exceptions by workflow stage, per day of detection",
            labels,
            _per_day(facts, span, "workflow"),
            slug="workflow",
            keys=keys,
        ),
        bar_chart(
            "Exceptions by cause, per day of detection",
            labels,
            _per_day(facts, span, "cause"),
            slug="cause",
            keys=keys,
        ),
        bar_chart(
            "SLA outcome, per day of detection",
            labels,
            _sla_series(facts, span, now),
            slug="sla",
            keys=keys,
        ),
        bar_chart("Confidence of the classifier", hist_labels, hist, slug="confidence"),
        bar_chart(
            "Classifier accuracy against reviewer corrections, per day of detection",
            labels,
            {"accuracy": _accuracy(facts, span, touched)},
            unit="%",
            y_max=100,
            slug="accuracy",
            keys=keys,
        ),
    ]
    return Dashboard(days=days, tiles=tiles(facts, timings, touched, now), charts=charts)
