"""A small fake IRRd for tests: the whois "!" protocol subset that bgpq4 speaks.

    server, port = start_irr_server(IRR_DATA)          # port=0 -> pick a free port
    subprocess.run(["bgpq4", "-h", f"127.0.0.1:{port}", "-4", "-j", "-l", "PL", "AS-EXAMPLE"])
    server.close()

Or run it by hand:  python -m tests.irr_server [--port 43043] [--data irr.json] [-v]

Protocol (what bgpq4 1.x sends, one query per line, pipelined):
    "!!"            keep the connection open for several queries - no reply
    "!n<ident>"     client identification                    -> "C"
    "!s-lc"         list the sources                         -> "A<len>" data "C"
    "!s<src,...>"   select sources                           -> "C"
    "!a"            IRRd 4 "A query" capability probe        -> "D" (answered like IRRd 3,
                    so bgpq4 falls back to per-ASN queries; aquery=True answers like IRRd 4)
    "!a4<SET>" / "!a6<SET>"  (IRRd 4 only) every prefix of a set in one reply
    "!i<SET>,1"     recursive as-set expansion, "!i<SET>" direct members only
    "!gAS<N>" / "!6AS<N>"    IPv4 / IPv6 prefixes originated by AS N ("as" in any case)
    "!q"            quit
Replies: "A<n>\\n<data>\\nC\\n" where n counts the data including its newline; "C\\n" = ok
without data; "D\\n" = key not found; "F <text>\\n" = error.

Test data must use ASNs bgpq4 accepts: it silently DROPS private and documentation ASNs
(64496-65551, 4200000000+) with "ERROR:Invalid AS number", exits 0 and prints an empty
(deny-all) list. 65601/65602 are fine; the prefixes may be documentation prefixes.
"""

from __future__ import annotations

import argparse
import json
import socketserver
import threading
from typing import Any

__all__ = ["IRR_TEST_DATA", "IRRServer", "start_irr_server"]

# Data layout mirrors the RPSL object classes: as-set members, route and route6 origins.
IRR_TEST_DATA: dict[str, Any] = {
    "source": "PEERBOT-TEST",
    "as-set": {
        "AS-EXAMPLE": ["AS65601", "AS-EXAMPLE-CUSTOMERS"],
        "AS-EXAMPLE-CUSTOMERS": ["AS65602", "AS-EXAMPLE"],  # loop on purpose: must terminate
        "AS-EMPTY": [],
        # IRR import tests (tests/irr): a member without route objects, a set of 12 /24s
        "AS-UNROUTED": ["AS65603"],
        "AS-TWELVE": ["AS65604"],
    },
    "route": {
        "AS65601": ["203.0.113.0/24"],
        "AS65602": ["198.51.100.0/25", "198.51.100.128/25"],
        "AS65604": [f"198.18.{i * 2}.0/24" for i in range(12)],  # 12 entries even aggregated
    },
    "route6": {
        "AS65601": ["2001:db8:65::/48"],
        "AS65602": ["2001:db8:66::/48"],
    },
}


def _asn_key(text: str) -> str:
    """'as65601' / '65601' / 'AS65601' -> 'AS65601'."""
    text = text.strip().upper()
    return text if text.startswith("AS") else f"AS{text}"


class IRRData:
    """Query logic over a data dict shaped like IRR_TEST_DATA (keys looked up upper-case)."""

    def __init__(self, data: dict[str, Any]):
        self.source = str(data.get("source", "PEERBOT-TEST")).upper()
        self.sets = {k.upper(): [m.upper() for m in v] for k, v in data.get("as-set", {}).items()}
        self.routes = {
            "route": {_asn_key(k): list(v) for k, v in data.get("route", {}).items()},
            "route6": {_asn_key(k): list(v) for k, v in data.get("route6", {}).items()},
        }

    def expand(self, name: str) -> list[str]:
        """All ASNs reachable from as-set `name` (nested sets followed once; loops are fine)."""
        seen, todo, asns = set(), [name.upper()], set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            for member in self.sets.get(current, []):
                if member in self.sets:
                    todo.append(member)
                elif member.startswith("AS") and member[2:].isdigit():
                    asns.add(member)
        return sorted(asns, key=lambda a: int(a[2:]))

    def prefixes(self, cls: str, asns: list[str]) -> list[str]:
        table = self.routes[cls]
        return sorted({p for asn in asns for p in table.get(asn, [])})


def _data_reply(items: list[str]) -> bytes:
    if not items:
        return b"C\n"
    payload = " ".join(items) + "\n"
    return f"A{len(payload)}\n{payload}C\n".encode()


def answer(db: IRRData, query: str, aquery: bool = False) -> bytes | None:
    """Reply for one query line; None means 'send nothing'."""
    q = query.strip()
    if q == "!!":
        return None
    if q == "!s-lc":
        return _data_reply([db.source])
    if q.startswith(("!n", "!s")):
        return b"C\n"
    if q == "!a":
        # IRRd 4 answers the bare probe with an error about the missing set name;
        # IRRd 3 does not know "!a" at all -> "D" makes bgpq4 use !i + !g/!6.
        return b"F Missing required set name for A query\n" if aquery else b"D\n"
    if q[:3] in ("!a4", "!a6"):
        name = q[3:].upper()
        cls = "route" if q[2] == "4" else "route6"
        if name in db.sets:
            return _data_reply(db.prefixes(cls, db.expand(name)))
        if name.startswith("AS") and name[2:].isdigit():
            return _data_reply(db.prefixes(cls, [name]))
        return b"D\n"
    if q.startswith("!i"):
        name, _, recursive = q[2:].partition(",")
        name = name.upper()
        if name not in db.sets:
            return b"D\n"
        return _data_reply(db.expand(name) if recursive == "1" else db.sets[name])
    if q[:2] in ("!g", "!6"):
        cls = "route" if q[1] == "g" else "route6"
        return _data_reply(db.prefixes(cls, [_asn_key(q[2:])]))
    return b"F Unrecognized command\n"


class IRRServer(socketserver.ThreadingTCPServer):
    """Threaded whois server; close() stops it and waits for the serving thread."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, db: IRRData, host: str, port: int, aquery: bool = False, log=None):
        self.db, self.aquery, self.log = db, aquery, log
        self.queries: list[str] = []  # every query received, for assertions in tests
        self._thread: threading.Thread | None = None
        super().__init__((host, port), _Handler)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self) -> "IRRServer":
        self._thread = threading.Thread(target=self.serve_forever, name="fake-irrd", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()  # stops serve_forever (blocks until it returned)
            self._thread.join(timeout=5)
            self._thread = None
        self.server_close()

    def __enter__(self) -> "IRRServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Handler(socketserver.StreamRequestHandler):
    timeout = 30  # never let a stuck client hold a thread forever

    def handle(self) -> None:
        server: IRRServer = self.server  # type: ignore[assignment]
        for raw in self.rfile:  # pipelined queries: answer strictly in order
            query = raw.decode("utf-8", "replace").strip()
            if not query:
                continue
            server.queries.append(query)
            if server.log:
                server.log(query)
            if query == "!q" or not query.startswith("!"):
                return
            reply = answer(server.db, query, server.aquery)
            if reply:
                self.wfile.write(reply)
                self.wfile.flush()


def start_irr_server(
    data: dict[str, Any] | None = None,
    port: int = 0,
    host: str = "127.0.0.1",
    aquery: bool = False,
    log=None,
) -> tuple[IRRServer, int]:
    """Start a fake IRRd in a background thread; returns (server, port). Stop with server.close()."""
    server = IRRServer(IRRData(IRR_TEST_DATA if data is None else data), host, port, aquery, log)
    server.start()
    return server, server.port


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=43043)
    ap.add_argument("--data", help="JSON file shaped like IRR_TEST_DATA")
    ap.add_argument("--aquery", action="store_true", help="answer the !a probe like IRRd 4")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every query")
    args = ap.parse_args()
    data = json.load(open(args.data)) if args.data else None
    log = (lambda q: print("query:", q, flush=True)) if args.verbose else None
    server, port = start_irr_server(data, args.port, aquery=args.aquery, log=log)
    print(f"fake IRRd on 127.0.0.1:{port}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.close()


if __name__ == "__main__":
    main()
