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


class AlreadyDone(Conflict):
    """What was asked is already so because the same user asked for it before (a second click of
    theirs, a Slack retry of the first): told as a note, not refused as an error."""


class PermissionDenied(PeerbotError):
    pass
