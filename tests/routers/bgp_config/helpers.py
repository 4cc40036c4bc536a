"""Test helpers: fixture loading, and Junos configuration XML as `| display json` renders it."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from bot.routers.base import Platform
from bot.routers.bgp_config import CONFIG_COMMANDS, parse_bgp_config
from bot.routers.bgp_config.model import BgpConfig

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "routers"

# Junos statements that may repeat: rendered as JSON lists even with one element.
_LISTS = {"group", "neighbor", "policy-statement", "term", "flag", "community", "prefix-list",
          "prefix-list-item", "import", "export", "apply-groups", "members"}


def fixture(platform: str, name: str) -> str:
    return (FIXTURES / platform / "config" / name).read_text()


def parse(platform: Platform, *files: str | None) -> BgpConfig:
    folder = platform.value
    outputs = {cmd: fixture(folder, f) for cmd, f in zip(CONFIG_COMMANDS[platform], files) if f}
    return parse_bgp_config(platform, outputs)


def _element(node: ET.Element) -> Any:
    children = list(node)
    if not children:
        text = (node.text or "").strip()
        return text if text else [None]
    out: dict[str, Any] = {}
    for child in children:
        value = _element(child)
        if child.tag in _LISTS:
            out.setdefault(child.tag, []).append(value)
        elif child.tag in out:  # repeated container (napalm's policy-options): merge
            existing = out[child.tag]
            for key, val in value.items():
                if isinstance(existing.get(key), list) and isinstance(val, list):
                    existing[key].extend(val)
                else:
                    existing[key] = val
        else:
            out[child.tag] = value
    return out


def junos_xml_as_json(xml_text: str) -> str:
    """A `<configuration>` RPC reply as Junos's `| display json` prints it."""
    return json.dumps({"configuration": _element(ET.fromstring(xml_text))}, indent=4)
