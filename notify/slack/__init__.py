"""Slack: the notifier, its Block Kit, the channel configuration and the SLA reminders."""
