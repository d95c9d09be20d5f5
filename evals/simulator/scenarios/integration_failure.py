"""Integration failure: a message between systems failed, stuck or was mapped wrongly."""

from __future__ import annotations

from evals.simulator.draft import Draft
from evals.simulator.scenarios.spec import CauseScenario

ERROR_TYPES = (
    "sync_failed",
    "integration_error",
    "message_failed",
    "dead_letter",
    "interface_error",
    "idoc_error",
    "api_error",
    "delivery_failed",
    "retry_exhausted",
)
ERROR_DETAILS = (
    "POST /erp/{endpoint} returned HTTP {status} after {k} retries",
    "Message {msg} moved to dead-letter queue: timeout",
    "IDoc {msg} status 51: document not posted",
    "Connection reset by peer on SFTP drop",
    "{doc} for {ref} rejected: schema validation failed",
    "XSLT transform failed: unexpected element ShipTo",
    "Queue consumer crashed, {k} messages parked",
    "OAuth token expired, {doc} not delivered",
    "Gateway timeout calling ERP ({status})",
    "Duplicate key on insert, {doc} rolled back",
    "AS2 MDN not received for {doc}",
    "Segment W06 missing in outbound 945",
    "Kafka consumer lag {n} on topic wms.confirmations",
)
LAST_ERRORS = (
    "HTTP 502 Bad Gateway",
    "ETIMEDOUT after 30000ms",
    "401 Unauthorized: token expired",
    "HTTP 503 Service Unavailable",
    "DLQ: max delivery attempts exceeded",
    "java.net.SocketTimeoutException: Read timed out",
    "IDoc status 51",
    "SFTP auth failure",
    "500 Internal Server Error from /goods-issue",
    "mapping error: null in field qty",
)
DONE_ELSEWHERE: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "WMS",
        ("ship_confirmed", "shipment_confirmed", "goods_issued"),
        (
            "Shipment {shipment} confirmed shipped {t}",
            "Load closed, {n} cartons shipped",
            "945 generated for {order}",
        ),
    ),
    (
        "WMS",
        ("receipt_confirmed", "putaway_complete", "gr_confirmed"),
        (
            "Receipt for {po} confirmed in WMS, {n} EA",
            "Putaway complete for {po}",
            "Inbound {po} closed in WMS",
        ),
    ),
    (
        "WMS",
        ("adjustment_posted", "count_posted", "stock_updated"),
        (
            "Adjustment for {sku} posted in WMS",
            "Count result for {sku} posted, awaiting ERP",
            "Stock move {sku} completed",
        ),
    ),
    (
        "SUPPLIER",
        ("asn_sent", "856_sent", "ship_notice_sent"),
        ("Supplier portal shows 856 sent {t}", "ASN for {po} transmitted {t}"),
    ),
    (
        "SUPPLIER",
        ("ack_sent", "855_sent", "confirmation_sent"),
        ("855 transmitted by {supplier} {t}", "Order confirmation for {po} sent from portal"),
    ),
)
CHAT_SAYS = (
    "the WMS->ERP queue has been stuck since {t}, {n} msgs in backlog",
    "middleware is throwing 503s again, ship confirms aren't posting",
    "it's done in the WMS but ERP still shows open - interface issue?",
    "IT says the integration server was patched last night, messages piled up",
    "dead letter queue has {n} messages, {ref} is one of them",
    "ERP never got the confirmation, WMS shows it done at {t}",
    "looks like the EDI translator dropped {ref}",
    "the api token rotated and nobody updated the connector, nothing is syncing",
)
SENT_SAYS = (
    "We transmitted the {doc} for {ref} on {day} at {t} and received your 997 acceptance.",
    "Our EDI log shows {ref} was sent {day} {t}, interchange control {icn}.",
    "The ASN/confirmation for {ref} went out on {day}; please check your side.",
    "We confirmed {ref} in your portal on {day}. Status there shows accepted.",
    "Resending the {doc} for {ref}; original was sent {day} {t} (ICN {icn}).",
    "Pickup for {ref} was completed at {t} and the 214 status was sent right away.",
)
CARRIER_SENT_SAYS = (
    "Pickup for {ref} was completed at {t} and the 214 status was sent right away.",
    "Our system shows {ref} picked up {day} {t}; the AF status went out to your EDI mailbox.",
    "{ref} was delivered and POD uploaded {day}, we sent the D1 status the same hour.",
    "We did send the status for {ref} (ICN {icn}); please check your EDI gateway.",
    "Tracking on our portal shows {ref} picked up at {t}. The status message was transmitted.",
)
STALLED = (
    "confirmation not posted in ERP",
    "status not received from WMS",
    "interface message pending",
    "sync job failed",
)


def frame(draft: Draft) -> None:
    """Adds refs that name the document that failed to move."""
    workflow = draft.workflow
    if workflow in ("supplier_confirmation", "receiving", "invoice_trigger"):
        draft.use_refs("po_id", "supplier_id")
    elif workflow in ("shipment_confirmation", "delivery"):
        draft.use_refs("shipment_id", "order_id")
        if draft.words.chance(0.6):
            draft.use_refs("carrier")
    else:
        draft.use_refs("order_id" if draft.words.chance(0.6) else "skus")


def doc_values(draft: Draft) -> dict[str, object]:
    """Returns the document kind and reference this integration case is about."""
    workflow = draft.workflow
    if workflow in ("supplier_confirmation", "receiving", "invoice_trigger"):
        doc, ref = (
            draft.words.pick(("855", "856", "ASN", "810", "order confirmation")),
            draft.setting.po_id,
        )
    elif workflow in ("shipment_confirmation", "delivery"):
        doc, ref = (
            draft.words.pick(("945", "ship confirm", "214", "goods issue")),
            draft.setting.shipment_id,
        )
    else:
        doc, ref = (
            draft.words.pick(("947", "stock snapshot", "order", "allocation")),
            draft.setting.order_id,
        )
    return {
        "doc": doc,
        "ref": ref,
        "msg": draft.rng.randint(10**6, 10**7),
        "status": draft.words.pick(("500", "502", "503", "504", "429")),
        "k": draft.rng.randint(3, 8),
        "n": draft.rng.randint(20, 4000),
        "endpoint": draft.words.pick(("goods-issue", "inventory/adjust", "orders", "receipts")),
        "icn": f"{draft.rng.randint(1, 999999999):09d}",
        "t": draft.words.clock(draft.ago(60, 600)),
        "day": draft.words.day(draft.ago(600, 3000)),
    }


def middleware_error(draft: Draft) -> None:
    """The middleware logs a failed, timed-out or dead-lettered message."""
    draft.event(
        draft.words.pick(("MIDDLEWARE", "MIDDLEWARE", "ERP")),
        ERROR_TYPES,
        ERROR_DETAILS,
        at=draft.ago(20, 600),
        code=None,
        fill=doc_values(draft),
    )


def last_sync_error(draft: Draft) -> None:
    """The orchestrator already knows the last sync error."""
    draft.attributes["last_sync_error"] = draft.words.pick(LAST_ERRORS)
    if draft.words.chance(0.4):
        draft.attributes["integration_queue_depth"] = draft.rng.randint(40, 5000)


def done_in_one_system(draft: Draft) -> None:
    """One system shows the business event done while the ERP does not."""
    if draft.workflow in ("shipment_confirmation", "delivery"):
        system, types, details = DONE_ELSEWHERE[0]
    elif draft.workflow in ("supplier_confirmation", "receiving", "invoice_trigger"):
        system, types, details = draft.rng.choice(DONE_ELSEWHERE[1::2] + DONE_ELSEWHERE[4:])
    else:
        system, types, details = DONE_ELSEWHERE[2]
    draft.event(system, types, details, at=draft.ago(60, 900), fill=doc_values(draft))
    key = draft.words.pick(("erp_status", "erp_document_status", "erp_state"))
    draft.attributes[key] = draft.words.pick(("open", "released", "not_posted", "pending"))
    if draft.words.chance(0.5):
        draft.attributes["wms_status"] = draft.words.pick(
            ("shipped", "closed", "complete", "confirmed")
        )


def it_chat(draft: Draft) -> None:
    """Someone internal notices messages piling up between systems."""
    draft.message(
        "internal",
        [draft.say(CHAT_SAYS, **doc_values(draft))],
        topic="interface",
        channel=draft.words.pick(("chat", "chat", "email")),
    )


def retry_scheduled(draft: Draft) -> None:
    """A retry is pending, which is compatible with a transient blip."""
    draft.event(
        "MIDDLEWARE",
        ("retry_scheduled", "sync_retry", "redelivery_pending"),
        ("Retry {k}/5 scheduled", "Redelivery pending for {ref}", "Backoff {k}m before retry"),
        at=draft.ago(5, 200),
        fill=doc_values(draft),
    )


def loose_update(draft: Draft) -> None:
    """The partner says outside the case that it sent its document long ago."""
    keys: tuple[str, ...]
    if draft.workflow in ("shipment_confirmation", "delivery"):
        party, keys = "carrier", ("shipment_id",)
    else:
        party, keys = "supplier", ("po_id", "supplier_id")
    values = doc_values(draft)
    if party == "supplier":
        values["ref"] = draft.setting.po_id
    bank = CARRIER_SENT_SAYS if party == "carrier" else SENT_SAYS[:-1]
    draft.loose_message(
        party,
        [draft.say(bank, **values)],
        topic="transmission",
        ref_keys=keys,
        at=draft.ago(20, 900),
    )


SCENARIO = CauseScenario(
    cause="integration_failure",
    workflows={
        "inventory_sync": 3,
        "shipment_confirmation": 3,
        "invoice_trigger": 2,
        "order_release": 2,
        "receiving": 2,
        "supplier_confirmation": 2,
    },
    frame=frame,
    strong=(middleware_error, last_sync_error, done_in_one_system, it_chat),
    weak=(retry_scheduled,),
    loose=loose_update,
    stalled_steps=STALLED,
    hints=(retry_scheduled, last_sync_error),
)
