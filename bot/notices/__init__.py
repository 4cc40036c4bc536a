"""Channel notices of BGP state changes: outbox (which notices a poll's changes make — thread,
summary and flap rules — written to the outbox with the change), sender (sends the outbox, one
sender across processes) and poster (Notifier: a rate-limited channel poster).

May import: bot.routers, bot.peeringdb, bot.core, bot.base, storage; never bot.sessions (a sibling)."""
