"""Turns a few factual sentences into a message written in a party's and channel's register."""

from __future__ import annotations

from datetime import datetime

from evals.simulator.wording import Wording
from evals.simulator.world import PEOPLE, stamp

CHANNELS_BY_PARTY: dict[str, tuple[str, ...]] = {
    "carrier": ("email", "email", "email", "portal", "edi", "phone_note"),
    "supplier": ("email", "email", "email", "portal", "edi", "phone_note"),
    "customer": ("email", "email", "portal", "phone_note"),
    "internal": ("chat", "chat", "chat", "email", "phone_note"),
}

MAILBOXES: dict[str, tuple[str, ...]] = {
    "carrier": (
        "dispatch",
        "ops",
        "tracking",
        "ltl.support",
        "customerservice",
        "noreply",
        "terminal.ops",
        "capacity",
    ),
    "supplier": ("orders", "sales", "ar", "logistics", "cs", "planning", "shipping", "billing"),
    "customer": ("purchasing", "receiving", "ap", "buyer", "supplychain", "orders"),
    "internal": ("ops", "inventory.control", "ap.team", "transport", "dc.lead", "it.support"),
}

GREETINGS = (
    "Hi team,",
    "Hello,",
    "Good morning,",
    "Dear all,",
    "Hi {name},",
    "Team -",
    "Hi,",
    "Hello {name},",
    "Good afternoon,",
    "",
)
SIGNOFFS = (
    "Best regards,\n{name}",
    "Thanks,\n{name}",
    "Kind regards,\n{name}",
    "Regards, {name}",
    "Thank you,",
    "-- {name}",
    "Sent from my iPhone",
    "Thx\n{name}",
    "Cheers, {name}",
    "",
)
POLITE_FILLERS = (
    "Apologies for any inconvenience.",
    "Thank you for your patience.",
    "Please let us know if you have any questions.",
    "We appreciate your understanding.",
    "Happy to jump on a call if that helps.",
    "Please advise.",
    "Sorry for the late reply.",
    "I hope this helps.",
    "Let me know how you would like to proceed.",
    "We value your business.",
    "Please keep us posted.",
)
INTERNAL_FILLERS = (
    "Can someone take a look?",
    "Adding the team for visibility.",
    "Not urgent yet but close.",
    "Let me know if you need more detail.",
    "Will check again after lunch.",
    "Thoughts?",
    "Please advise.",
    "Copying the shift lead.",
)
CHAT_FILLERS = (
    "fyi",
    "not sure if related",
    "anyway",
    "lmk",
    "ugh",
    "will update",
    "cc ops",
    "heads up",
    "+1",
    "anyone?",
    "on it",
    "k",
)
PHONE_OPENERS = (
    "Called {org}:",
    "Spoke w/ {name} at {org} -",
    "Phone call {org}:",
    "VM from {org}:",
    "Rang {org} -",
    "Tel. {name} ({org}):",
    "call w/ {org}",
    "{name} @ {org} called back:",
    "",
)
TERSE_OPENERS = (
    "STATUS UPDATE:",
    "PORTAL NOTE -",
    "Update:",
    "[auto]",
    "",
    "",
    "NOTICE:",
    "Msg:",
    "Status:",
)
SUBJECTS = (
    "Re: {ref} {topic}",
    "{ref}",
    "RE: {topic} - {ref}",
    "FW: {ref} update",
    "{topic} {ref}",
    "Update on {ref}",
    "{ref} / {topic}",
    "URGENT: {ref}",
    "Re: Re: {ref}",
    "{topic}",
)


def compose_body(words: Wording, party: str, channel: str, sentences: list[str], org: str) -> str:
    """Writes the sentences as a message body in the register the channel and party suggest."""
    name = words.pick(PEOPLE)
    facts = words.shuffle_tail(sentences)
    if channel in ("edi", "portal"):
        return _terse(words, facts)
    if channel == "phone_note":
        opener = words.pick(PHONE_OPENERS).format(org=org, name=name)
        text = " ".join(s.rstrip(".") for s in facts)
        text = words.abbreviate(f"{opener} {text}".strip(), 0.6)
        return words.misspell(words.lowercase(text, 0.35), 0.25)
    if channel == "chat":
        if words.chance(0.35):
            facts.append(words.pick(CHAT_FILLERS))
        text = words.abbreviate(" ".join(facts), 0.35)
        return words.misspell(words.lowercase(text, 0.45), 0.25)
    return _polite(words, facts, name, INTERNAL_FILLERS if party == "internal" else POLITE_FILLERS)


def _terse(words: Wording, facts: list[str]) -> str:
    """Renders facts as short status text, the way portals and EDI notes read."""
    text = " ".join(s.rstrip(".") + "." for s in facts)
    opener = words.pick(TERSE_OPENERS)
    text = f"{opener} {text}".strip()
    return text.upper() if words.chance(0.4) else words.abbreviate(text, 0.3)


def _polite(words: Wording, facts: list[str], name: str, fillers: tuple[str, ...]) -> str:
    """Renders facts as an e-mail with optional greeting, filler and sign-off."""
    parts: list[str] = []
    greeting = words.pick(GREETINGS).format(name=words.pick(PEOPLE))
    if greeting:
        parts.append(greeting)
    body = [f if f.endswith((".", "?", "!")) else f + "." for f in facts]
    for filler in words.rng.sample(fillers, words.rng.choice((0, 0, 1, 1, 2))):
        body.insert(words.rng.randrange(1, len(body) + 1), filler)
    sentences = " ".join(body)
    parts.append(sentences[0].upper() + sentences[1:])
    signoff = words.pick(SIGNOFFS).format(name=name)
    if signoff:
        parts.append(signoff)
    separator = words.pick(("\n\n", "\n", " "))
    return words.misspell(separator.join(parts), 0.07)


def make_message(
    words: Wording,
    *,
    at: datetime,
    party: str,
    sentences: list[str],
    org: str,
    domain: str,
    ref: str,
    topic: str,
    channel: str | None = None,
    direction: str = "inbound",
) -> dict[str, object]:
    """Builds one contract-shaped message from a party about a reference."""
    channel = channel or words.pick(CHANNELS_BY_PARTY[party])
    sender: str | None = f"{words.pick(MAILBOXES[party])}@{domain}"
    subject: str | None = words.pick(SUBJECTS).format(ref=ref, topic=topic)
    if channel in ("chat", "phone_note"):
        sender = words.pick(PEOPLE).lower() if channel == "chat" and words.chance(0.5) else None
        subject = None
    elif channel == "edi":
        subject = words.rng.choice((f"{ref}", f"EDI {topic}", None))
    if direction == "outbound" and sender is not None and channel == "email":
        sender = f"{words.pick(MAILBOXES['internal'])}@ourco.example"
    return {
        "at": stamp(at),
        "channel": channel,
        "direction": direction,
        "party": party,
        "sender": sender,
        "subject": subject,
        "body": compose_body(words, party, channel, sentences, org),
    }
