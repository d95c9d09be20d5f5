"""Plain-text renderings of cases and messages, shared by embedders, classifiers and prompts."""

from __future__ import annotations

from core.models import Case, Event, Message


def event_text(event: Event) -> str:
    """Returns one event as a line of text."""
    code = f" [{event.code}]" if event.code else ""
    return (
        f"{event.system.value} {event.type.replace('_', ' ')}{code}: {event.detail or ''}".strip()
    )


def message_text(message: Message) -> str:
    """Returns one message's subject and body as text."""
    subject = f"{message.subject}. " if message.subject else ""
    return f"{message.party.value} {message.channel.value}: {subject}{message.body}"


def attribute_text(case: Case) -> str:
    """Returns the case attributes as `key=value` pairs."""
    return " ".join(f"{key}={value}" for key, value in sorted(case.attributes.items()))


def case_text(case: Case) -> str:
    """Returns the whole case as text: workflow, stalled step, events, messages and attributes."""
    lines = [f"{case.workflow.value.replace('_', ' ')}: {case.stalled_step}"]
    lines += [event_text(e) for e in case.events]
    lines += [message_text(m) for m in case.messages]
    if case.attributes:
        lines.append(attribute_text(case))
    return "\n".join(lines)
