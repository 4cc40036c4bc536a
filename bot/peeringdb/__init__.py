"""PeeringDB as a data source: an API client, a local mirror kept by sync, and searches over it.

May import: bot.core, bot.base, storage; never bot.routers (a sibling)."""
