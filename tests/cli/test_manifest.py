"""manifest.yml is a usable Slack app manifest for what the bot registers."""
from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_manifest_declares_command_interactivity_and_scopes() -> None:
    m = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert m["_metadata"]["major_version"] == 1
    assert len(m["display_information"]["name"]) <= 35
    commands = {c["command"]: c for c in m["features"]["slash_commands"]}
    assert "/peering" in commands and len(commands["/peering"]["description"]) <= 100
    settings = m["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write"} <= scopes
    # HTTP mode is documented in place: the URL lines are there to un-comment, all on one path
    text = (ROOT / "manifest.yml").read_text()
    for key in ("# url:", "# request_url:", "# message_menu_options_url:"):
        assert key in text and "/slack/events" in text.split(key, 1)[1].splitlines()[0]
