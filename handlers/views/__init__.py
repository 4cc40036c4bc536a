"""Pure functions: domain read models → Block Kit dicts (unit-tested), no Slack calls.

May import: handlers.ids, the other views, and the domain packages below handlers; never the
listener modules of handlers."""
