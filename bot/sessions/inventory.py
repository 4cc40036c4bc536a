"""Load routers, peer groups and exchanges from a YAML inventory file, idempotently.

Passwords are never in the file: a router names the environment variable that holds its
password (`password_env`), or a key file.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import select

from bot.base.errors import PeerbotError
from bot.routers.base import Platform
from storage.db import Database
from storage.models import Exchange, PeerGroup, Router

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"


class PeerGroupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=_NAME)
    description: str | None = Field(default=None, max_length=255)


class RouterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=_NAME)
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(default=22, ge=1, le=65535)
    platform: Platform
    username: str = Field(min_length=1, max_length=64)
    password_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    key_file: str | None = None
    local_asns: list[int] = Field(min_length=1)
    addresses: list[str] = Field(default_factory=list)
    url: str | None = Field(default=None, pattern=r"^https?://")
    peer_groups: list[PeerGroupIn | str] = Field(default_factory=list)

    @field_validator("local_asns")
    @classmethod
    def _asns(cls, v: list[int]) -> list[int]:
        for asn in v:
            if not 1 <= asn <= 4_294_967_295:
                raise ValueError(f"ASN {asn} out of range")
        return v

    @field_validator("addresses")
    @classmethod
    def _addrs(cls, v: list[str]) -> list[str]:
        return [str(ipaddress.ip_address(a)) for a in v]


class ExchangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # With `peeringdb_ix: <id>`, name and LAN prefixes come from the PeeringDB mirror (and follow
    # it on each sync); a name given here still wins.
    peeringdb_ix: int | None = Field(default=None, ge=1)
    name: str | None = Field(default=None, min_length=1, max_length=128)
    peeringdb_ix_id: int | None = None
    lan_prefix_v4: str | None = None
    lan_prefix_v6: str | None = None

    @field_validator("lan_prefix_v4", "lan_prefix_v6")
    @classmethod
    def _prefix(cls, v: str | None, info) -> str | None:  # noqa: ANN001
        if v is None:
            return v
        net = ipaddress.ip_network(v, strict=False)
        if net.version != (4 if info.field_name.endswith("v4") else 6):
            raise ValueError(f"{v} is not an IPv{4 if info.field_name.endswith('v4') else 6} prefix")
        return str(net)

    @model_validator(mode="after")
    def _named(self) -> ExchangeIn:
        if self.name is None and self.peeringdb_ix is None:
            raise ValueError("an exchange needs a name or peeringdb_ix")
        return self


class InventoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    routers: list[RouterIn] = Field(default_factory=list)
    exchanges: list[ExchangeIn] = Field(default_factory=list)


@dataclass
class LoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


class InventoryError(PeerbotError):
    pass


def parse_inventory(path: Path) -> InventoryIn:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise InventoryError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise InventoryError(f"{path} is not valid YAML: {exc}") from None
    try:
        return InventoryIn.model_validate(data)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise InventoryError(f"{path} is invalid:\n  " + "\n  ".join(lines)) from None


def _apply(obj: object, values: dict, report: LoadReport, label: str, created: bool) -> None:
    changed = False
    for k, v in values.items():
        if getattr(obj, k) != v:
            setattr(obj, k, v)
            changed = True
    if created:
        report.created.append(label)
    elif changed:
        report.updated.append(label)
    else:
        report.unchanged.append(label)


def load_inventory(db: Database, path: Path) -> LoadReport:
    inv = parse_inventory(path)
    report = LoadReport()
    with db.session() as s:
        for r in inv.routers:
            router = s.scalar(select(Router).where(Router.name == r.name))
            created = router is None
            if created:
                router = Router(name=r.name)
                s.add(router)
            values = r.model_dump(exclude={"name", "peer_groups"})
            values["platform"] = r.platform.value
            _apply(router, values, report, f"router {r.name}", created)
            s.flush()
            for g in r.peer_groups:
                g = PeerGroupIn(name=g) if isinstance(g, str) else g
                group = s.scalar(select(PeerGroup).where(PeerGroup.router_id == router.id, PeerGroup.name == g.name))
                g_created = group is None
                if g_created:
                    group = PeerGroup(router_id=router.id, name=g.name)
                    s.add(group)
                _apply(group, {"description": g.description}, report, f"peer group {r.name}/{g.name}", g_created)
        for x in inv.exchanges:
            if x.peeringdb_ix is not None:
                x = _from_peeringdb(s, x)
            if re.fullmatch(r"(?i)no exchange", x.name):
                raise InventoryError("'No Exchange' is built in; do not list it")
            ex = s.scalar(select(Exchange).where(Exchange.name == x.name))
            created = ex is None
            if created:
                ex = Exchange(name=x.name, is_none=False)
                s.add(ex)
            _apply(ex, x.model_dump(exclude={"name", "peeringdb_ix"}) | (
                {"peeringdb_managed": True} if x.peeringdb_ix else {}), report, f"exchange {x.name}", created)
    return report


def _from_peeringdb(s, x: ExchangeIn) -> ExchangeIn:  # noqa: ANN001
    from bot.peeringdb.exchanges import ix_from_mirror

    try:
        ix = ix_from_mirror(s, x.peeringdb_ix)
    except PeerbotError as exc:
        raise InventoryError(f"exchange peeringdb_ix {x.peeringdb_ix}: {exc}") from None
    return x.model_copy(update={"name": x.name or ix.name, "peeringdb_ix_id": ix.ix_id,
                                "lan_prefix_v4": ix.lan_prefix_v4, "lan_prefix_v6": ix.lan_prefix_v6})
