"""IRR import of AS-SETs: `bgpq4` expands a set into prefix lists (bgpq4.py), `service.py`
stores them in AsSet and turns a changed list into change requests, `refresh.py` re-imports
every AS-SET in use on a schedule.

May import: bot.changes and everything below it; never bot.home or bot.email (siblings)."""
