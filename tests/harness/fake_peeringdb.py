"""A local PeeringDB API: GET /api/<type>[?since=&depth=] answering `{"data": [...], "meta": {}}`
with records shaped like the real API's (depth 0 field names), plus scripted failures.

`since` behaves like PeeringDB's: objects updated at or after that epoch, deleted ones included
(status "deleted"); without it, only live objects.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

T0 = "2025-06-01T08:00:00Z"


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def org(id: int, name: str, updated: str = T0, **kw: Any) -> dict[str, Any]:
    return {"id": id, "name": name, "aka": "", "name_long": "", "website": "", "social_media": [], "notes": "",
            "require_ixf_member_list": False, "address1": "", "address2": "", "city": "", "country": "US",
            "state": "", "zipcode": "", "floor": "", "suite": "", "latitude": None, "longitude": None,
            "created": "2014-01-01T00:00:00Z", "updated": updated, "status": "ok", **kw}


def net(id: int, org_id: int, name: str, asn: int, updated: str = T0, **kw: Any) -> dict[str, Any]:
    return {"id": id, "org_id": org_id, "name": name, "aka": "", "name_long": "", "website": "",
            "social_media": [], "asn": asn, "looking_glass": "", "route_server": "", "irr_as_set": "",
            "info_type": "Content", "info_types": ["Content"], "info_prefixes4": None, "info_prefixes6": None,
            "info_traffic": "", "info_ratio": "Not Disclosed", "info_scope": "Global", "info_unicast": True,
            "info_multicast": False, "info_ipv6": True, "info_never_via_route_servers": False, "ix_count": 0,
            "fac_count": 0, "notes": "", "netixlan_updated": None, "netfac_updated": None, "poc_updated": None,
            "policy_url": "", "policy_general": "Open", "policy_locations": "Not Required",
            "policy_ratio": False, "policy_contracts": "Not Required", "allow_ixp_update": False,
            "status_dashboard": None, "rir_status": "ok", "rir_status_updated": None, "logo": None,
            "created": "2014-01-01T00:00:00Z", "updated": updated, "status": "ok", **kw}


def poc(id: int, net_id: int, role: str, email: str, visible: str = "Public", updated: str = T0,
        **kw: Any) -> dict[str, Any]:
    return {"id": id, "net_id": net_id, "role": role, "visible": visible, "name": f"{role} desk",
            "phone": "", "email": email, "url": "", "created": "2014-01-01T00:00:00Z", "updated": updated,
            "status": "ok", **kw}


def ix(id: int, org_id: int, name: str, updated: str = T0, **kw: Any) -> dict[str, Any]:
    return {"id": id, "org_id": org_id, "name": name, "aka": "", "name_long": name, "city": "Frankfurt",
            "country": "DE", "region_continent": "Europe", "media": "Ethernet", "notes": "",
            "proto_unicast": True, "proto_multicast": False, "proto_ipv6": True, "website": "",
            "social_media": [], "url_stats": "", "tech_email": "", "tech_phone": "", "policy_email": "",
            "policy_phone": "", "sales_email": "", "sales_phone": "", "net_count": 0, "fac_count": 0,
            "ixf_net_count": 0, "ixf_last_import": None, "ixf_import_request": None,
            "ixf_import_request_status": "queued", "service_level": "Not Disclosed", "terms": "Not Disclosed",
            "status_dashboard": None, "logo": None, "created": "2014-01-01T00:00:00Z", "updated": updated,
            "status": "ok", **kw}


def ixlan(id: int, ix_id: int, updated: str = T0, **kw: Any) -> dict[str, Any]:
    return {"id": id, "ix_id": ix_id, "name": "", "descr": "", "mtu": 1500, "dot1q_support": False,
            "rs_asn": 0, "arp_sponge": None, "ixf_ixp_member_list_url_visible": "Private",
            "ixf_ixp_import_enabled": False, "created": "2014-01-01T00:00:00Z", "updated": updated,
            "status": "ok", **kw}


def ixpfx(id: int, ixlan_id: int, prefix: str, updated: str = T0, **kw: Any) -> dict[str, Any]:
    return {"id": id, "ixlan_id": ixlan_id, "protocol": "IPv6" if ":" in prefix else "IPv4", "prefix": prefix,
            "in_dfz": True, "created": "2014-01-01T00:00:00Z", "updated": updated, "status": "ok", **kw}


def netixlan(id: int, net_id: int, ix_id: int, ixlan_id: int, asn: int, ipaddr4: str | None,
             ipaddr6: str | None, updated: str = T0, **kw: Any) -> dict[str, Any]:
    return {"id": id, "net_id": net_id, "ix_id": ix_id, "name": "", "ixlan_id": ixlan_id, "notes": "",
            "speed": 100000, "asn": asn, "ipaddr4": ipaddr4, "ipaddr6": ipaddr6, "is_rs_peer": True,
            "bfd_support": False, "operational": True, "created": "2014-01-01T00:00:00Z", "updated": updated,
            "status": "ok", "net_side_id": None, "ix_side_id": None, **kw}


def sample_records() -> dict[str, list[dict[str, Any]]]:
    """A small, realistic slice of PeeringDB: four networks, one exchange with both LANs."""
    return {
        "org": [org(4715, "Cloudflare, Inc."), org(2, "Hurricane Electric"), org(459, "Google LLC"),
                org(57, "DE-CIX Management GmbH"), org(9001, "Example Hosting GmbH")],
        "net": [
            net(4224, 4715, "Cloudflare", 13335, irr_as_set="AS-CLOUDFLARE", info_prefixes4=3000,
                info_prefixes6=1500, aka="Cloudflare, Inc.", website="https://www.cloudflare.com"),
            net(20, 2, "Hurricane Electric", 6939, irr_as_set="RADB::AS-HURRICANE", info_prefixes4=150000,
                info_prefixes6=80000, info_type="NSP", policy_general="Open"),
            net(433, 459, "Google LLC", 15169, irr_as_set="RADB::AS-GOOGLE", info_prefixes4=15000,
                info_prefixes6=3000, policy_general="Selective"),
            net(31337, 9001, "Flare Hosting", 64999, irr_as_set="", info_prefixes4=None, info_prefixes6=None,
                policy_general="Restrictive"),
        ],
        "poc": [poc(101, 4224, "Policy", "peering@cloudflare.example"),
                poc(102, 4224, "NOC", "noc@cloudflare.example", visible="Users"),
                poc(103, 4224, "Technical", "private@cloudflare.example", visible="Private"),
                poc(201, 20, "Policy", "peering@he.example")],
        "ix": [ix(31, 57, "DE-CIX Frankfurt")],
        "ixlan": [ixlan(31, 31, rs_asn=6695)],
        "ixpfx": [ixpfx(61, 31, "80.81.192.0/21"), ixpfx(62, 31, "2001:7f8::/64")],
        "netixlan": [
            netixlan(5001, 4224, 31, 31, 13335, "80.81.194.152", "2001:7f8::3417:0:1"),
            netixlan(5002, 4224, 31, 31, 13335, "80.81.195.152", None),
            netixlan(5003, 20, 31, 31, 6939, "80.81.192.172", "2001:7f8::1b1b:0:1"),
            netixlan(5004, 433, 31, 31, 15169, None, "2001:7f8::3b41:0:1"),
        ],
    }


@dataclass
class Request:
    object_type: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Scripted:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"message": "scripted failure"}'


class FakePeeringDB:
    def __init__(self, records: dict[str, list[dict[str, Any]]] | None = None) -> None:
        self.records = records if records is not None else sample_records()
        self.requests: list[Request] = []
        self.scripted: dict[str, list[Scripted]] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakePeeringDB:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def fail(self, object_type: str, status: int, times: int = 1, **headers: str) -> None:
        """The next `times` requests for this type get `status` (e.g. 429 with Retry-After)."""
        with self._lock:
            self.scripted.setdefault(object_type, []).extend(
                Scripted(status, {k.replace("_", "-"): v for k, v in headers.items()}) for _ in range(times))

    def upsert(self, object_type: str, record: dict[str, Any]) -> None:
        with self._lock:
            rows = self.records.setdefault(object_type, [])
            rows[:] = [r for r in rows if r["id"] != record["id"]] + [record]

    def of(self, object_type: str) -> list[Request]:
        return [r for r in self.requests if r.object_type == object_type]

    def _answer(self, object_type: str, query: dict[str, str]) -> list[dict[str, Any]]:
        rows = self.records.get(object_type, [])
        if "since" in query:
            since = int(query["since"])
            return [r for r in rows if ts(r["updated"]) >= since]
        return [r for r in rows if r["status"] != "deleted"]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                object_type = parts.path.removeprefix("/api/").strip("/")
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                with fake._lock:
                    fake.requests.append(Request(object_type, query, {k.lower(): v for k, v in self.headers.items()}))
                    script = fake.scripted.get(object_type)
                    scripted = script.pop(0) if script else None
                if scripted is not None:
                    self._send(scripted.status, scripted.body.encode(), scripted.headers)
                    return
                if object_type not in fake.records:
                    self._send(404, b'{"meta": {"error": "Not found"}, "data": []}', {})
                    return
                body = json.dumps({"data": fake._answer(object_type, query), "meta": {}}).encode()
                self._send(200, body, {})

        return Handler


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
