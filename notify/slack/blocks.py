"""Block Kit for approval messages, their decided versions, reminders and the reject modal."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core.approvals import ApprovalRecord
from core.models import Case
from core.results import Classification

Blocks = list[dict[str, Any]]
APPROVE, REJECT, OPEN = "triage_approve", "triage_reject", "triage_open"
REJECT_MODAL = "triage_reject_modal"
REASON_BLOCK, REASON_INPUT = "reason_block", "reason_input"
MAX_TEXT = 2900  # Slack refuses section text above 3000 characters


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:MAX_TEXT]}}


def slack_date(at: datetime) -> str:
    """Returns a Slack date token that renders in the reader's time zone, with a UTC fallback."""
    fallback = at.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(at.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def case_url(public_url: str, case_id: str) -> str:
    """Returns the UI link of a case."""
    return f"{public_url.rstrip('/')}/ui/cases/{case_id}"


def _facts(case: Case, classification: Classification | None) -> str:
    if classification is None:
        cause = "*Cause:* not classified"
    else:
        cause = f"*Cause:* {classification.cause} ({classification.confidence:.0%} confidence)"
        if classification.routed_reason:
            cause += f" · routed: {classification.routed_reason}"
    amount = f"{case.amount.value:,.2f} {case.amount.currency}" if case.amount else "none"
    due = slack_date(case.sla_due_at) if case.sla_due_at else "none"
    return f"{cause}\n*Amount:* {amount}\n*SLA due:* {due}"


def _proposal(record: ApprovalRecord) -> str:
    shown = {k: v for k, v in record.params.items() if v is not None}
    params = json.dumps(shown, sort_keys=True, default=str)
    role = record.approver_role or "any reviewer"
    return (
        f"*{record.action}* `{params[:400]}`\n"
        f"needs {record.required_approvals} approval(s) by {role} · id `{record.approval_id}`"
    )


def _buttons(record: ApprovalRecord, link: str) -> dict[str, Any]:
    def button(label: str, action_id: str, style: str) -> dict[str, Any]:
        text = {"type": "plain_text", "text": label}
        return {
            "type": "button",
            "text": text,
            "action_id": action_id,
            "value": record.approval_id,
            "style": style,
        }

    link_button = {
        "type": "button",
        "text": {"type": "plain_text", "text": "Open in UI"},
        "action_id": OPEN,
        "url": link,
    }
    return {
        "type": "actions",
        "block_id": f"approval:{record.approval_id}",
        "elements": [
            button("Approve", APPROVE, "primary"),
            button("Reject", REJECT, "danger"),
            link_button,
        ],
    }


def approval_message(
    case: Case,
    classification: Classification | None,
    approvals: list[ApprovalRecord],
    public_url: str,
    *,
    interactive: bool,
) -> tuple[str, Blocks]:
    """Returns the fallback text and blocks of a case's approval request."""
    link = case_url(public_url, case.case_id)
    refs = ", ".join(f"{k} {v}" for k, v in case.refs.matching_keys().items())
    summary = (
        f"*{case.case_id}*: {case.workflow.value} stalled at _{case.stalled_step}_ ({case.site})"
    )
    blocks: Blocks = [
        {
            "type": "header",
            "text": {"type": "plain_text", "text": f"Approval needed: {case.case_id}"[:150]},
        },
        _section(summary + (f"\n{refs}" if refs else "")),
        _section(_facts(case, classification)),
    ]
    for record in approvals:
        blocks.append(_section(_proposal(record)))
        if interactive:
            blocks.append(_buttons(record, link))
    if not interactive:
        blocks.append(_section(f"<{link}|Open in UI> to decide."))
    text = f"Approval needed for {case.case_id}: " + ", ".join(a.action for a in approvals)
    return text, blocks


def decided_message(blocks: Blocks, status: str, link: str) -> tuple[str, Blocks]:
    """Returns an approval message with its buttons replaced by the case's new status."""
    kept = [b for b in blocks if b.get("type") != "actions"]
    kept.append(_section(f":white_check_mark: *Status:* {status} · <{link}|Open in UI>"))
    return f"Case status: {status}", kept


def status_reply(case_id: str, status: str) -> tuple[str, Blocks]:
    """Returns the thread reply that announces a status change."""
    text = f"{case_id} is now *{status}*."
    return text, [_section(text)]


def reminder_message(
    case: Case, record: ApprovalRecord, mention: str, link: str
) -> tuple[str, Blocks]:
    """Returns the SLA reminder for an approval still pending at 80% of its time."""
    due = slack_date(case.sla_due_at) if case.sla_due_at else "soon"
    text = (
        f"{mention} reminder: *{record.action}* on {case.case_id} is still pending; "
        f"SLA due {due}. <{link}|Open in UI>"
    ).strip()
    return text, [_section(text)]


def escalation_message(
    case: Case, record: ApprovalRecord, mention: str, link: str
) -> tuple[str, Blocks]:
    """Returns the escalation posted when a pending approval's SLA is breached."""
    due = slack_date(case.sla_due_at) if case.sla_due_at else "unknown"
    text = (
        f":rotating_light: SLA breached: *{record.action}* on {case.case_id} was due {due} "
        f"and is still pending. {mention} <{link}|Open in UI>"
    )
    return text, [_section(text)]


def reject_modal(approval_id: str, channel: str | None) -> dict[str, Any]:
    """Returns the modal asking for the reason a rejection requires."""
    return {
        "type": "modal",
        "callback_id": REJECT_MODAL,
        "private_metadata": json.dumps({"approval_id": approval_id, "channel": channel}),
        "title": {"type": "plain_text", "text": "Reject action"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": {"type": "plain_text", "text": "Reason (required)"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_INPUT,
                    "multiline": True,
                },
            }
        ],
    }


def submitted_reason(view: dict[str, Any]) -> str:
    """Returns the reason typed into the reject modal, stripped ("" when missing)."""
    values = view.get("state", {}).get("values", {})
    value = values.get(REASON_BLOCK, {}).get(REASON_INPUT, {}).get("value")
    return value.strip() if isinstance(value, str) else ""
