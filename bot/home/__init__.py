"""The App Home tab's aggregates (summary.py): sessions by state, routers, the sessions that
changed in the last 24 h and the change requests waiting for an approver.

May import: bot.changes and everything below it; never bot.irr or bot.email (siblings)."""
