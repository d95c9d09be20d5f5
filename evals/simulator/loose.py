"""Background loose messages: partner updates that arrive outside any case."""

from __future__ import annotations

from collections.abc import Sequence

from evals.simulator.draft import Draft
from evals.simulator.scenarios import SCENARIOS
from evals.simulator.wording import Wording
from evals.simulator.world import IdBook, make_setting

# Harmless updates can be attached to any case's refs without changing what caused it.
HARMLESS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "carrier",
        ("shipment_id",),
        (
            "POD for {shipment} attached.",
            "Freight invoice for {shipment} attached, terms net 30.",
            "Please find the BOL copy for {shipment} attached.",
            "Reminder: accessorial charges for {shipment} will appear on next statement.",
            "Your account rep for the {area} lane changes next month.",
        ),
    ),
    (
        "supplier",
        ("po_id", "supplier_id"),
        (
            "Attached is the certificate of analysis for {po}.",
            "Please note our bank details are unchanged; ignore any email saying otherwise.",
            "Our offices will be closed on {day} for the holiday.",
            "Safety data sheet for {sku} updated, see attached.",
            "Thank you for {po}. Our catalogue for next year is attached.",
        ),
    ),
    (
        "supplier",
        ("supplier_id",),
        (
            "New price list for next year attached for review.",
            "Our year-end shutdown is {day}.",
            "We have moved to a new EDI provider; no action needed on your side.",
        ),
    ),
)


def harmless_message(draft: Draft, present: Sequence[str]) -> dict[str, object] | None:
    """Writes a routine partner message keyed by refs the case already carries, if any fit."""
    fitting = [h for h in HARMLESS if all(key in present for key in h[1])]
    if not fitting:
        return None
    party, keys, bank = draft.rng.choice(fitting)
    moment = draft.ago(-600, 6000)
    text = draft.say(bank, day=draft.words.day(moment))
    return draft.loose_message(party, [text], topic="info", ref_keys=keys, at=moment)


def unrelated_message(words: Wording, book: IdBook, index: int) -> dict[str, object]:
    """Writes a partner update about references no case carries."""
    draft = Draft(make_setting(words.rng, book, f"BG-{index}"), words)
    if words.chance(0.3):
        message = harmless_message(draft, ("shipment_id", "po_id", "supplier_id"))
        if message is not None:
            return message
    with_voice = [s for s in SCENARIOS.values() if s.loose is not None]
    scenario = words.rng.choice(with_voice)
    draft.workflow = scenario.pick_workflow(draft)
    scenario.open(draft)
    assert scenario.loose is not None
    scenario.loose(draft)
    return draft.loose[-1]


def background_messages(
    words: Wording,
    book: IdBook,
    count: int,
    history_pool: list[dict[str, object]],
    eval_drafts: list[tuple[Draft, dict[str, object]]],
) -> list[dict[str, object]]:
    """Returns count background messages: some on history refs, some harmless on eval refs."""
    if count <= 0:
        return []
    rng = words.rng
    on_history = rng.sample(history_pool, min(len(history_pool), int(count * 0.45)))
    chosen = list(on_history)
    harmless_target = int(count * 0.12)
    for draft, case in rng.sample(eval_drafts, min(len(eval_drafts), harmless_target * 2)):
        if len(chosen) - len(on_history) >= harmless_target:
            break
        refs = case.get("refs")
        present = [k for k, v in refs.items() if v] if isinstance(refs, dict) else []
        message = harmless_message(draft, present)
        if message is not None:
            chosen.append(message)
    index = 0
    while len(chosen) < count:
        chosen.append(unrelated_message(words, book, index))
        index += 1
    return chosen
