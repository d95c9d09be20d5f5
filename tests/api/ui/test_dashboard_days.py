"""The dashboard buckets cases by the day they were detected, and exports its figures as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from api.ui.dashboard import bar_chart, build_dashboard
from api.ui.export import DASHBOARD_HEADER, dashboard_csv
from core.models import Case
from core.store import cases as case_store
from core.store.db import Database
from tests.support.cases import make_case


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def test_cases_received_today_count_on_the_days_they_were_detected(db: Database) -> None:
    """Three cases received in the same minute land on the two earlier days they were detected."""
    now = datetime.now(UTC)
    detected = [now - timedelta(days=2), now - timedelta(days=2), now - timedelta(days=1)]
    async with db.transaction() as conn:
        for i, moment in enumerate(detected):
            body = make_case(
                case_id=f"DAY-{i}", detected_at=_iso(moment), sla_due_at=_iso(now + timedelta(1))
            )
            await case_store.insert_case(conn, Case.model_validate(body), "t")
        board = await build_dashboard(conn, now, days=7)
    by_slug = {ch.slug: ch for ch in board.charts}
    day = {k: i for i, k in enumerate(by_slug["workflow"].keys)}
    today, one, two = ((now - timedelta(days=n)).date().isoformat() for n in (0, 1, 2))
    counts = by_slug["workflow"].series["shipment_confirmation"]
    assert (counts[day[two]], counts[day[one]], counts[day[today]]) == (2, 1, 0)
    sla = by_slug["sla"].series["within SLA"]
    assert (sla[day[two]], sla[day[one]], sla[day[today]]) == (2, 1, 0)
    assert "per day of detection" in by_slug["workflow"].title

    rows = list(csv.reader(io.StringIO(dashboard_csv(board))))
    assert rows[0] == DASHBOARD_HEADER
    assert ["tiles", "Cases", "", "3", ""] in rows
    assert ["workflow", two, "shipment_confirmation", "2", ""] in rows
    assert ["sla", one, "within SLA", "1", ""] in rows
    only_sla = list(csv.reader(io.StringIO(dashboard_csv(board, "sla"))))
    assert {r[0] for r in only_sla[1:]} == {"sla"}
    assert len(only_sla) == 1 + 7 * 2  # seven days, two series


def test_the_newest_day_keeps_its_label_when_labels_are_thinned() -> None:
    """With 14 days only every other day is labelled, counted back from the newest."""
    labels = [f"d{i}" for i in range(14)]
    chart = bar_chart("t", labels, {"n": [1.0] * 14})
    shown = [label for _, label in chart.x_labels]
    assert shown[-1] == "d13"
    assert shown == labels[1::2]
