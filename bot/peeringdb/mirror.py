"""How PeeringDB records map onto the mirror tables (storage/models.py, pdb_*)."""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import insert

from storage.models import PdbIx, PdbIxLan, PdbIxPfx, PdbNet, PdbNetIxLan, PdbNetToken, PdbOrg, PdbPoc

# Parents before children, so a full first load fills the tables in a sensible order.
MODELS: dict[str, type] = {
    "org": PdbOrg, "net": PdbNet, "poc": PdbPoc, "ix": PdbIx, "ixlan": PdbIxLan, "ixpfx": PdbIxPfx,
    "netixlan": PdbNetIxLan,
}
OBJECT_TYPES = tuple(MODELS)
TOKEN_MAX = 64  # pdb_net_token.token length
_WORD = re.compile(r"\w+")
_LIMITS = {"name": 255, "aka": 255, "name_long": 255, "city": 192, "country": 8, "role": 32, "visible": 16,
           "phone": 100, "email": 255, "policy_general": 32, "protocol": 8, "prefix": 64, "ipaddr4": 64,
           "ipaddr6": 64, "status": 16}


def parse_updated(value: Any) -> datetime | None:
    """PeeringDB's `updated` ("2024-03-01T10:20:30Z") as an aware datetime."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def row_for(object_type: str, record: dict[str, Any]) -> dict[str, Any]:
    """The column values of one record: only the mirrored fields, strings cut to their column."""
    model = MODELS[object_type]
    row: dict[str, Any] = {}
    for col in model.__table__.columns:
        name = col.name
        if name == "name_lc":
            continue
        value = record.get(name)
        if name == "updated":
            value = parse_updated(value)
        elif isinstance(value, str):
            value = value.strip()
            if name in _LIMITS:
                value = value[: _LIMITS[name]]
            if value == "" and col.nullable:
                value = None
        row[name] = value
    if row.get("status") is None:
        row["status"] = "ok"
    if object_type == "net":
        row["name"] = row.get("name") or f"AS{record.get('asn')}"
        row["name_lc"] = normalise(row["name"])
    if object_type in ("org", "ix"):
        row["name"] = row.get("name") or f"#{record.get('id')}"
    return row


def normalise(text: str | None) -> str:
    """The form names and queries are compared in: lower case, single spaces."""
    return " ".join((text or "").lower().split())[:255]


def net_tokens(name: str | None, aka: str | None, irr_as_set: str | None) -> set[str]:
    """Every suffix (2+ characters) of every word in name, aka and AS-SET, lower case: a substring
    of a word is then a prefix of one of its tokens, which an index answers with a range scan."""
    tokens: set[str] = set()
    for text in (name, aka, irr_as_set):
        for word in _WORD.findall((text or "").lower()):
            if len(word) == 1:
                tokens.add(word)
                continue
            for i in range(len(word) - 1):
                tokens.add(word[i:][:TOKEN_MAX])
    return tokens


def token_rows(nets: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for net in nets:
        for token in net_tokens(net.get("name"), net.get("aka"), net.get("irr_as_set")):
            yield {"token": token, "net_id": net["id"]}


def insert_tokens(s, nets: Iterable[dict[str, Any]], batch_size: int = 5000) -> None:  # noqa: ANN001
    """The search tokens of `nets` (pdb_net rows as dicts), inserted in batches."""
    batch: list[dict[str, Any]] = []
    for row in token_rows(nets):
        batch.append(row)
        if len(batch) >= batch_size:
            s.execute(insert(PdbNetToken), batch)
            batch = []
    if batch:
        s.execute(insert(PdbNetToken), batch)
