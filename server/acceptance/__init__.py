"""Lawful acceptance: notice and consent before queueing (docs/acceptance.md)."""
