"""Reading BGP state back from routers: poller (one router, all routers, one session; a
refresh's readings stored together: GroupStore), claims (one poll of a router at a time across
processes), history (state history, pruning) and timeline (the 7-day PNG, drawn in a child
process).

May import: bot.notices, bot.sessions and everything below them."""
