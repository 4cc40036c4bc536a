"""Router changes: requests (change requests: request → approve / reject / cancel / expire →
claim → run), records (what a request is: its actions, views, states in words, and storing a
new one), executor (Changes: configure, admin up/down, delete, polls; one SSH connection a
router), runner (runs approved requests on the worker pool; the sweep), router_config (what a
router is sent for a session: spec, filters, masking, plan), config_manager (the scope check of
edited commands), editing + edit_runner (Edit: pending values, diff, move).

Inside: requests imports editing and edit_runner, they import records; never the reverse.
May import: bot.polling and everything below it."""
