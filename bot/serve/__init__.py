"""The running bot, its composition root: app (the Bolt App with every listener of handlers),
wsgi (HTTP mode on waitress, /healthz), slack_status (auth.test at start, retried while Slack is
unreachable), payload_check (the shape of a signed payload, before Bolt), scheduler (the
APScheduler jobs) and run (what `peerbot serve` starts: the Slack check, the background jobs,
Socket Mode or HTTP).

May import: handlers and everything below; only bot.cli imports bot.serve."""
