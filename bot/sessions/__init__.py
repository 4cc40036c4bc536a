"""Sessions and what they are made of: catalog (routers, peer groups, exchanges and peers as
read models), pickers (type-ahead searches of them), queries (list / show / load a session),
views (the read models: SessionView, pages), provisioning (create a session: the checks the
wizard and the CLI share), preflight (the ✅/⚠️/❌ checks), max_prefix (suggested limits) and
inventory (loading the YAML inventory).

May import: bot.routers, bot.peeringdb, bot.core, bot.base, storage; never bot.notices (a sibling)."""
