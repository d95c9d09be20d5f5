"""CSV exports of the queue and the dashboard, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from fastapi.responses import Response

from api.ui.dashboard import Dashboard
from api.ui.queue import QueueRow

# A spreadsheet runs a cell that starts with one of these as a formula; case text is untrusted.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

QUEUE_HEADER = [
    "case_id",
    "priority",
    "sla_due_at",
    "sla_left_s",
    "site",
    "workflow",
    "stalled_step",
    "status",
    "cause",
    "confidence",
    "action",
    "approver_role",
    "posts_to_erp",
    "amount",
    "currency",
    "approvals_done",
    "approvals_required",
    "approval_id",
    "order_id",
    "po_id",
    "invoice_id",
    "shipment_id",
    "detected_at",
    "received_at",
]
DASHBOARD_HEADER = ["section", "key", "series", "value", "unit"]

Cell = str | int | float | bool | datetime | None


def cell(value: Cell) -> str | int | float:
    """Returns a value as a CSV cell: numbers plain, times in ISO 8601 UTC, text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        rounded = round(value, 4)
        return int(rounded) if rounded.is_integer() else rounded
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """Writes a header and rows with the stdlib csv module."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()


def csv_response(text: str, stem: str, now: datetime) -> Response:
    """Returns CSV text as a download named after its content and the moment it was taken."""
    name = f"{stem}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def queue_csv(rows: list[QueueRow]) -> str:
    """Returns the queue's rows, in the order shown, one line per pending approval."""
    return to_csv(QUEUE_HEADER, (_queue_line(row) for row in rows))


def _queue_line(row: QueueRow) -> list[Cell]:
    case, record = row.stored.case, row.approval
    return [
        case.case_id,
        row.priority,
        case.sla_due_at,
        None if row.sla_left is None else int(row.sla_left.total_seconds()),
        case.site,
        case.workflow.value,
        case.stalled_step,
        row.stored.status.value,
        row.cause,
        row.confidence,
        record.action,
        record.approver_role,
        record.posts_to_erp,
        row.amount,
        case.amount.currency if case.amount else None,
        row.approvals_done,
        record.required_approvals,
        record.approval_id,
        case.refs.order_id,
        case.refs.po_id,
        case.refs.invoice_id,
        case.refs.shipment_id,
        case.detected_at,
        row.stored.created_at,
    ]


def dashboard_csv(board: Dashboard, chart: str | None = None) -> str:
    """Returns the dashboard's figures in long form: the tiles, then each chart's bars."""
    lines: list[list[Cell]] = []
    if chart is None:
        lines += [["tiles", t.label, "", t.number, t.unit] for t in board.tiles]
    for ch in board.charts:
        if chart not in (None, ch.slug):
            continue
        for i, key in enumerate(ch.keys):
            lines += [
                [ch.slug, key, name, values[i], ch.unit] for name, values in ch.series.items()
            ]
    return to_csv(DASHBOARD_HEADER, lines)
