"""Junos `| display xml` -> `| display json`, for the real Junos captures (napalm's mocked RPC
replies are XML; public `| display json` captures of `show bgp neighbor` are rare).

Junos renders its JSON mechanically from the same XML tree: every element becomes a list of
objects under its tag name, a leaf is {"data": "<text>"}, an empty leaf {"data": [null]} and XML
attributes go under "attributes". Converting the captured XML this way feeds the parser the
captured values in the JSON framing the router would have used.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _element(el: ET.Element) -> dict:
    children = list(el)
    node: dict = {}
    if el.attrib:
        node["attributes"] = {_local(k): v for k, v in el.attrib.items() if not k.startswith("{")}
    if not children:
        text = el.text if el.text is not None and el.text.strip() else None
        node["data"] = text if text is not None else [None]
        return node
    for child in children:
        node.setdefault(_local(child.tag), []).append(_element(child))
    return node


def junos_xml_to_json(xml_text: str) -> str:
    root = ET.fromstring(xml_text.strip())
    return json.dumps({_local(root.tag): [_element(root)]}, indent=4)
