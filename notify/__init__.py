"""Everything that tells people and systems: Slack messages, reminders and escalations."""
