"""The Slack configuration file: channels, approver groups, reviewer mapping and reminder timing."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from core.errors import ConfigurationError
from core.models import Case

log = logging.getLogger(__name__)


class ChannelRoutes(BaseModel):
    """Channel ids by queue (the case's `queue` attribute or its workflow) and by site."""

    model_config = ConfigDict(extra="forbid")

    queues: dict[str, str] = Field(default_factory=dict)
    sites: dict[str, str] = Field(default_factory=dict)


class SlackConfig(BaseModel):
    """Where notifications go, whom they mention and which Slack user is which reviewer."""

    model_config = ConfigDict(extra="forbid")

    default_channel: str | None = None
    escalation_channel: str | None = None
    channels: ChannelRoutes = Field(default_factory=ChannelRoutes)
    approver_groups: dict[str, str] = Field(default_factory=dict)
    users: dict[str, str] = Field(default_factory=dict)
    reminder_fraction: float = Field(default=0.8, gt=0, lt=1)

    @model_validator(mode="before")
    @classmethod
    def _ignore_expiry_hours(cls, data: Any) -> Any:
        # Expiry moved to the policy file so that it runs without Slack; an old file still loads.
        if isinstance(data, dict) and "approval_expiry_hours" in data:
            log.warning(
                "the Slack config's approval_expiry_hours is no longer read; "
                "set approval_expiry_hours in the policy file"
            )
            data = {k: v for k, v in data.items() if k != "approval_expiry_hours"}
        return data

    def channel_for(self, case: Case) -> str | None:
        """Returns the channel of the case's queue, else of its site, else the default."""
        queue = case.attributes.get("queue")
        for key in (queue if isinstance(queue, str) else None, case.workflow.value):
            if key and key in self.channels.queues:
                return self.channels.queues[key]
        return self.channels.sites.get(case.site, self.default_channel)

    def escalation_channel_for(self, case: Case) -> str | None:
        """Returns the escalation channel, falling back to the case's own channel."""
        return self.escalation_channel or self.channel_for(case)

    def mention_for(self, role: str | None) -> str:
        """Returns the group mention of an approver role (or the `default` group), or ""."""
        return self.approver_groups.get(role or "", self.approver_groups.get("default", ""))

    def reviewer_for(self, slack_user_id: str) -> str | None:
        """Returns the reviewer username mapped to a Slack user id."""
        return self.users.get(slack_user_id)


def load_slack_config(path: Path | None) -> SlackConfig:
    """Reads the TOML file named by TRIAGE_SLACK_CONFIG_FILE, or returns the defaults."""
    if path is None:
        return SlackConfig()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return SlackConfig.model_validate(data)
    except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigurationError(f"cannot load the Slack config {path}: {exc}") from exc
