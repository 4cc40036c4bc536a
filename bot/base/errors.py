"""Typed domain errors. Handlers turn them into Slack replies; their text is safe to show."""
from __future__ import annotations


class PeerbotError(Exception):
    """Base for errors whose message is meant for the user."""


class NotFound(PeerbotError):
    pass


class InvalidInput(PeerbotError):
    """One or more fields are invalid; `errors` maps field name -> message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class Conflict(PeerbotError):
    pass


class PermissionDenied(PeerbotError):
    pass
