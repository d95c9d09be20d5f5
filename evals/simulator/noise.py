"""Distractors: routine events, harmless-looking attributes and off-topic messages."""

from __future__ import annotations

from evals.simulator.draft import Draft

ROUTINE_EVENTS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "MIDDLEWARE",
        ("sync_ok", "interface_ok", "batch_ok"),
        (
            "Inventory snapshot delivered to ERP",
            "Batch {n} processed, 0 errors",
            "Order feed in sync",
        ),
    ),
    ("MIDDLEWARE", ("heartbeat", "health_check"), ("Heartbeat OK", "All endpoints healthy")),
    (
        "WMS",
        ("label_printed", "labels_printed", "label_reprint"),
        ("{n} carton labels printed", "SSCC labels printed for {order}", "Label reprint requested"),
    ),
    (
        "WMS",
        ("pallets_wrapped", "pallet_built", "lpn_closed"),
        ("{n} pallets wrapped", "Pallet LPN closed", "Stretch wrap complete"),
    ),
    (
        "ERP",
        ("order_released", "release_to_wms"),
        ("{order} released to {site}", "Released to WMS"),
    ),
    (
        "ERP",
        ("order_created", "order_received"),
        ("Order {order} created via EDI 850", "Order entered by CSR"),
    ),
    (
        "ERP",
        ("order_changed", "order_updated"),
        ("Delivery date changed by CSR", "Ship-to address confirmed", "Line note added"),
    ),
    (
        "TMS",
        ("appointment_scheduled", "appointment_booked"),
        ("Appointment booked for {day}", "Delivery appt confirmed {day}"),
    ),
    (
        "TMS",
        ("rate_quoted", "load_planned"),
        ("Rate quote received", "Load planned on lane {area}"),
    ),
    (
        "CRM",
        ("case_note", "contact_logged", "ticket_updated"),
        ("Customer called for status", "Account manager note added", "Ticket updated by CSR"),
    ),
    ("FINANCE", ("payment_run",), ("Payment run completed", "Payment proposal created")),
    (
        "FINANCE",
        ("fx_rates_loaded", "period_close"),
        ("FX rates loaded", "Month-end accrual posted"),
    ),
    (
        "WMS",
        ("replenishment_done", "task_completed", "putaway_done"),
        ("Replenishment to pick face complete", "Putaway task closed", "Task {n} completed"),
    ),
    ("ERP", ("mrp_run", "batch_job"), ("MRP run completed", "Nightly batch finished")),
)
OFF_TOPIC: tuple[tuple[str, str], ...] = (
    ("internal", "forklift 3 battery swap at 2pm, plan around it"),
    ("internal", "reminder: safety huddle tomorrow 7am at door {door}"),
    ("internal", "who has the key to the cage?"),
    ("internal", "new temp starts monday on receiving"),
    ("internal", "can someone print the BOL for {order} again, printer jammed"),
    ("customer", "Please send a copy of the invoice for our records."),
    ("customer", "Can you confirm the delivery address for future orders?"),
    ("customer", "Could you add our PO number to the packing slip next time?"),
    ("supplier", "Our offices will be closed on {day} for the holiday."),
    ("supplier", "Please note our new remit-to address effective next month."),
    ("carrier", "Reminder: fuel surcharge table updated this week."),
    ("carrier", "Please make sure pallets are labelled on two sides."),
)


def add_routine_events(draft: Draft, count: int) -> None:
    """Adds routine events that say nothing about the cause."""
    for _ in range(count):
        system, types, details = draft.rng.choice(ROUTINE_EVENTS)
        moment = draft.ago(10, 4000)
        draft.event(
            system,
            types,
            details,
            at=moment,
            n=draft.rng.randint(2, 300),
            day=draft.words.day(moment),
        )


def add_off_topic_message(draft: Draft) -> None:
    """Adds a message about something else."""
    party, text = draft.rng.choice(OFF_TOPIC)
    draft.message(
        party, [draft.say((text,), day=draft.words.day(draft.ago(0, 3000)))], topic="misc"
    )


def add_calm_attributes(draft: Draft, cause: str) -> None:
    """Adds attributes that look relevant but are normal for this case."""
    attrs = draft.attributes
    if (
        cause != "warehouse_congestion"
        and "wms_backlog_orders" not in attrs
        and draft.words.chance(0.45)
    ):
        # Backlog a little above normal is common and should not read as congestion on its own.
        attrs["wms_backlog_orders"] = int(draft.rng.randint(120, 350) * draft.rng.uniform(0.8, 1.4))
    if cause != "credit_hold" and "credit_status" not in attrs and draft.words.chance(0.3):
        attrs["credit_status"] = draft.words.pick(
            ("ok", "approved", "released", "good_standing", "A")
        )
    if (
        cause != "integration_failure"
        and "last_sync_error" not in attrs
        and draft.words.chance(0.3)
    ):
        attrs["last_sync_error"] = draft.rng.choice(
            (None, None, "timeout 3 days ago, retried OK", "HTTP 429 (rate limit) - recovered")
        )
    if draft.words.chance(0.35):
        attrs[draft.words.pick(("erp_status", "order_status"))] = draft.words.pick(
            ("released", "open", "in_process", "confirmed")
        )
    if draft.words.chance(0.25):
        attrs["priority"] = draft.words.pick(("high", "normal", "low", "P1", "P2", "expedite"))
    if draft.words.chance(0.15):
        attrs["customer_tier"] = draft.words.pick(("gold", "silver", "key_account", "standard"))
    if draft.words.chance(0.12):
        attrs["tags"] = draft.rng.sample(["peak", "retail", "b2b", "promo", "vmi", "cross_dock"], 2)


def add_noise(draft: Draft, cause: str) -> None:
    """Adds a varying amount of distraction to a case."""
    add_routine_events(draft, draft.rng.choice((0, 1, 1, 2, 2, 3, 4)))
    if draft.words.chance(0.2):
        add_off_topic_message(draft)
    add_calm_attributes(draft, cause)
