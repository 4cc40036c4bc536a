"""peerbot: BGP peering sessions from Slack. One package a job, imports only downwards:

    bot.cli → bot.serve → handlers → bot.irr | bot.home | bot.email | bot.adoption → bot.changes → bot.polling
      → bot.notices | bot.sessions → bot.routers | bot.peeringdb → bot.core → bot.base → storage

(README "Architecture"; checked by the import-linter contracts in pyproject.toml.)"""
