"""Adopting a network that already runs (issue 17): discovery reads each router's BGP neighbor
configuration (over the pollers' worker pool, router locks and child readers) and stores what it
found (RouterNeighbor); compare says how a neighbor differs from its session; importer turns
found neighbors into sessions without touching a router; drift keeps router and database in step
(differences as DriftItems, a report in the notify channel, Adopt / Fix / Ignore).

May import: bot.changes (a Fix is a change request), bot.notices, bot.sessions, bot.polling,
bot.routers, bot.peeringdb, bot.core, bot.base, storage.
"""
