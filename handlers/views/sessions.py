"""Session list and session detail messages (pure: domain views in, Block Kit dicts out)."""
from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from bot.base.errors import InvalidInput
from bot.sessions.catalog import PeerView, RouterView
from bot.sessions.views import ListKey, SessionPage, SessionView
from handlers.ids import Action
from handlers.views.email import in_doubt_block, last_email_line
from handlers.views.common import (
    MAX_BUTTON, MAX_MODAL_TITLE, ago, actions, button, confirm_dialog, context, escape, escape_clipped,
    fields_section, header, message, plain, section, state_label,
)

TYPE_LABEL = {"public": "Public (IXP)", "private": "Private (PNI)", "local": "Local / custom"}
PEERINGDB_NET = "https://www.peeringdb.com/net/{}"


def _prefixes(v: SessionView) -> str:
    def n(x: int | None) -> str:
        return "–" if x is None else str(x)

    return f"{n(v.prefixes_received)} / {n(v.prefixes_accepted)} / {n(v.prefixes_advertised)}"


def session_line(v: SessionView) -> str:
    since = ago(v.last_state_change) if v.last_state_change else "–"
    rcvd = "–" if v.prefixes_received is None else str(v.prefixes_received)
    return (
        f"{state_label(v.display_state)}  *{escape(v.peer_name)}* AS{v.peer_asn}  `{v.peer_ip}`\n"
        f"{escape(v.router_name)} · {escape(v.exchange_name)} · pfx rcvd {rcvd} · since {since}"
    )


def session_list(page: SessionPage, *, can_add: bool = False, bulk: bool = False) -> dict[str, Any]:
    """Header + one section a session (with a View button) + paging (+ bulk controls). At most ~46 blocks."""
    q = page.query_text
    title = f"Peering sessions{f' matching “{q}”' if q else ''}"
    blocks = [header(title[:150])]
    if not page.items:
        blocks.append(section("No sessions match." if q else "No sessions yet. Use `/peering add` to create one."))
    for v in page.items:
        blocks.append(section(session_line(v), accessory=button("View", Action.LIST_SHOW, str(v.id))))
    up = sum(1 for v in page.items if v.is_up)
    blocks.append(context(f"{_position(page)} · {page.total:,}{'+' if page.total_capped else ''} session(s) · "
                          f"{up} of {len(page.items)} on this page Established"))
    nav = []
    first, last = (ListKey.of(page.items[0]), ListKey.of(page.items[-1])) if page.items else (None, None)
    if page.prev and page.page != 2:  # else Previous is First
        nav.append(button("⏮ First", f"{Action.LIST_PAGE}-first", _page_value(q, 1)))
    if page.prev:
        nav.append(button("◀ Previous", f"{Action.LIST_PAGE}-prev", _page_value(q, page.page - 1, before=first)))
    if page.next:
        nav.append(button("Next ▶", f"{Action.LIST_PAGE}-next", _page_value(q, page.page + 1, after=last)))
    if page.next and page.page != -2 and (page.total_capped or page.page != page.pages - 1):  # else Next is Last
        nav.append(button("Last ⏭", f"{Action.LIST_PAGE}-last", _page_value(q, -1)))
    nav.append(button("Refresh", Action.LIST_REFRESH, _page_value(q, page.page)))
    if can_add:
        nav.append(button("Add Session", Action.ADD_SESSION, style="primary"))
    blocks += actions(nav, block_id="list_nav")
    if bulk and page.items:
        blocks.append(_bulk_controls(page))
    return message(f"{title}: {page.total} session(s)", blocks)


BULK_BLOCK = "bulk"


def _bulk_controls(page: SessionPage) -> dict[str, Any]:
    """A multi-select of the sessions on this page and the bulk buttons (handlers/router_actions.py)."""
    options = [{"text": plain(f"#{v.id} {v.peer_name} AS{v.peer_asn} {v.peer_ip}", limit=MAX_BUTTON), "value": str(v.id)}
               for v in page.items[:100]]
    value = _page_value(page.query_text, page.page)
    n = "the selected sessions"
    return {"type": "actions", "block_id": BULK_BLOCK, "elements": [
        {"type": "multi_static_select", "action_id": Action.BULK_SELECT, "placeholder": plain("Select sessions…"),
         "options": options},
        button("Admin Up", f"{Action.BULK_ACTION}-admin_up", value),
        button("Admin Down", f"{Action.BULK_ACTION}-admin_down", value, confirm=confirm_dialog(
            "Admin Down", f"Shut down the BGP sessions of {n} on their routers?", "Shut down", danger=True)),
        button("Delete", f"{Action.BULK_ACTION}-deconfigure", value, style="danger", confirm=confirm_dialog(
            "Delete sessions", f"Delete {n} and remove their neighbors from the routers?", "Delete", danger=True)),
    ]}


def _position(page: SessionPage) -> str:
    if page.page > 0:
        return f"Page {page.page}/{page.pages}{'+' if page.total_capped else ''}"
    return "Last page" if page.page == -1 else f"Page {-page.page} from the end"


PAGE_MAX = 1_000_000  # |page| in a button value; more is not a page of this list
KEY_MAX = 255  # characters of a router name / peer IP in a button value


@dataclass(frozen=True)
class PageRef:
    """A list button's value: the filter, the page number (negative: from the end) and, for
    Previous/Next, the key of the row the page starts after / ends before."""

    query: str
    page: int
    after: ListKey | None = None
    before: ListKey | None = None


def _page_value(query: str, page: int, *, after: ListKey | None = None, before: ListKey | None = None) -> str:
    """The list's filter and page, carried in a button value (≤ 2000 characters)."""
    extra: dict[str, Any] = {}
    if after is not None:
        extra["a"] = [after.router[:KEY_MAX], after.peer_ip[:KEY_MAX]]
    if before is not None:
        extra["b"] = [before.router[:KEY_MAX], before.peer_ip[:KEY_MAX]]

    def dump(q: str) -> str:
        return json.dumps({"q": q, "p": page, **extra}, separators=(",", ":"), ensure_ascii=False)

    query = query[:1500]
    value = dump(query)
    while len(value) > 2000:  # a filter of escaped or wide characters: shorten it, keep valid JSON
        query = query[: len(query) * 3 // 4]
        value = dump(query)
    return value


DAMAGED = "This list button is damaged or out of date: run `/peering list` again."


def parse_page_ref(value: object) -> PageRef:
    """A list button's value, checked: anything but what _page_value writes is refused with
    InvalidInput (a clear message), never guessed at."""
    try:
        data = json.loads(value) if isinstance(value, str) and len(value) <= 2000 else None
    except ValueError:
        data = None
    if not isinstance(data, dict) or not set(data) <= {"q", "p", "a", "b"} or ("a" in data and "b" in data):
        raise InvalidInput({"page": DAMAGED})
    query, page = data.get("q", ""), data.get("p", 1)
    if not isinstance(query, str) or type(page) is not int or not (0 < abs(page) <= PAGE_MAX):
        raise InvalidInput({"page": DAMAGED})

    def key(name: str) -> ListKey | None:
        raw = data.get(name)
        if raw is None:
            return None
        if not (isinstance(raw, list) and len(raw) == 2 and all(isinstance(x, str) and 0 < len(x) <= KEY_MAX for x in raw)):
            raise InvalidInput({"page": DAMAGED})
        return ListKey(raw[0], raw[1])

    return PageRef(query, page, key("a"), key("b"))


def parse_page_value(value: object) -> tuple[str, int]:
    """The filter and page number of a list button (see parse_page_ref)."""
    ref = parse_page_ref(value)
    return ref.query, ref.page


def session_detail(v: SessionView, available: Collection[str] = (), note: str | None = None) -> dict[str, Any]:
    router = f"<{v.router_url}|{escape(v.router_name)}>" if v.router_url else escape(v.router_name)
    peer = (f"<{PEERINGDB_NET.format(v.peeringdb_net_id)}|{escape(v.peer_name)}>" if v.peeringdb_net_id
            else escape(v.peer_name))
    blocks = [
        header(f"Session #{v.id}: {v.peer_name} AS{v.peer_asn}"),
        fields_section([
            ("State", state_label(v.display_state)),
            ("Since", ago(v.last_state_change) if v.last_state_change else "–"),
            ("Peer", f"{peer} (AS{v.peer_asn})"),
            ("Peer IP", f"`{v.peer_ip}` (IPv{v.address_family})"),
            ("Router", f"{router} ({v.router_platform})"),
            ("Local ASN", f"AS{v.local_asn}"),
            ("Exchange", escape(v.exchange_name)),
            ("Type", TYPE_LABEL.get(v.session_type, v.session_type)),
            ("Peer group", escape(v.peer_group) or "–"),
            ("Prefixes rcvd / accepted / adv", _prefixes(v)),
        ]),
        fields_section([
            ("Admin status", v.admin_status.capitalize()),
            ("Configured on router", "Yes" if v.configured else "No"),
            ("MD5", "•••• (set)" if v.has_md5 else "none"),
            ("AS-SET", escape(v.as_set) or "–"),
            ("Max prefixes", f"{v.max_prefixes:,}" if v.max_prefixes else "none"),
        ]),
    ]
    if v.notes:
        blocks.append(section(f"*Notes*\n{escape(v.notes)}"))
    if v.last_error:
        blocks.append(section(f":warning: *Last error*\n{escape(v.last_error)}"))
    if note:
        blocks.append(section(note))
    elif v.pending_change:
        from handlers.views.approvals import pending_line

        blocks.append(section(pending_line(v.pending_change)))
    if v.last_email:
        blocks.append(context(last_email_line(v.last_email)))
    if v.email_in_doubt and Action.EMAIL in available:
        blocks.append(in_doubt_block(v.email_in_doubt))
    blocks.append(context(
        f"Last polled {ago(v.last_polled)} · created by {('<@' + v.created_by + '>') if v.created_by and not v.created_by.startswith('cli:') else escape(v.created_by or '?')}"
        f" {ago(v.created_at)} · updated {ago(v.updated_at)}"
    ))
    blocks += actions(_detail_buttons(v, available), block_id=f"session_actions:{v.id}")
    return message(f"Session #{v.id} {v.peer_name} AS{v.peer_asn} {v.peer_ip}: {v.display_state}", blocks)


CONFIRM_NAME_MAX = 80  # escaped characters of a peer or router name in a confirm dialog (≤ 300 in all)


def _detail_buttons(v: SessionView, available: Collection[str]) -> list[dict[str, Any]]:
    sid = str(v.id)
    peer, router = escape_clipped(v.peer_name, CONFIRM_NAME_MAX), escape_clipped(v.router_name, CONFIRM_NAME_MAX)
    candidates: list[tuple[str, dict[str, Any]]] = [
        (Action.CONFIGURE, button("Configure", Action.CONFIGURE, sid, style="primary")),
        (Action.CONFIG_MANAGER, button("Config Manager", Action.CONFIG_MANAGER, sid)),
        (Action.EMAIL, button("Email", Action.EMAIL, sid)),
    ]
    if v.admin_status == "down":
        candidates.append((Action.ADMIN_UP, button("Admin Up", Action.ADMIN_UP, sid)))
    else:
        candidates.append((Action.ADMIN_DOWN, button("Admin Down", Action.ADMIN_DOWN, sid, confirm=confirm_dialog(
            "Admin Down", f"Shut down the BGP session with *{peer}* ({v.peer_ip}) on {router}?",
            "Shut down", danger=True))))
    candidates += [
        (Action.REFRESH, button("Refresh", Action.REFRESH, sid)),
        (Action.EDIT, button("Edit", Action.EDIT, sid)),
        (Action.DELETE, button("Delete", Action.DELETE, sid, style="danger", confirm=confirm_dialog(
            "Delete session", f"Delete session #{v.id} with *{peer}* ({v.peer_ip})"
            + (f" and remove the neighbor from {router}?" if v.configured else "?"),
            "Delete", danger=True))),
        (Action.ROUTER_DETAILS, button("Router details", Action.ROUTER_DETAILS, str(v.router_id))),
        (Action.PEER_DETAILS, button("Peer details", Action.PEER_DETAILS, str(v.peer_id))),
        (Action.ADD_SESSION, button("Add Session", Action.ADD_SESSION)),
    ]
    return [b for action_id, b in candidates if action_id in available]


def router_details_modal(r: RouterView, discover: bool = False) -> dict[str, Any]:
    blocks = [
        fields_section([
            ("Name", escape(r.name)), ("Platform", r.platform), ("Address", f"`{escape(r.host)}:{r.port}`"),
            ("Local ASNs", ", ".join(f"AS{a}" for a in r.local_asns) or "–"),
            ("Peer groups", escape(", ".join(r.peer_groups)) or "–"), ("Sessions", str(r.session_count)),
            ("Last polled", ago(r.last_polled)),  # type: ignore[arg-type]
        ]),
    ]
    if r.last_error:
        blocks.append(section(f":warning: *Last error*\n{escape(r.last_error)}"))
    if r.url:
        blocks.append(section(f"<{r.url}|Open in the inventory>"))
    if discover:  # read the router's BGP configuration: what is new, known, different (handlers/adoption.py)
        blocks += actions([button("Discover sessions", Action.DISCOVER_ROUTER, str(r.id))])
    return {"type": "modal", "callback_id": "router_details_view", "title": plain(f"Router {r.name}", limit=MAX_MODAL_TITLE),
            "close": plain("Close"), "blocks": blocks}


def peer_details_modal(p: PeerView) -> dict[str, Any]:
    blocks = [fields_section([
        ("Name", escape(p.name)), ("ASN", f"AS{p.asn}"), ("AS-SET", escape(p.as_set) or "–"),
        ("Source", "PeeringDB" if p.peeringdb_net_id else "Local / custom"),
        ("Session IPs", "\n".join(f"`{ip}`" for ip in p.ips[:20]) or "–"),
    ])]
    if p.peeringdb_net_id:
        blocks.append(section(f"<{PEERINGDB_NET.format(p.peeringdb_net_id)}|Open on PeeringDB>"))
    return {"type": "modal", "callback_id": "peer_details_view", "title": plain(f"Peer AS{p.asn}", limit=MAX_MODAL_TITLE),
            "close": plain("Close"), "blocks": blocks}


def help_message(command: str = "/peering") -> dict[str, Any]:
    c = command
    text = (
        f"*`{c} list [filter]`* — sessions with their BGP state. Filters: `router:NAME`, `ix:NAME`, "
        "`state:up|down|idle|active|admin|unconfigured`, `asn:65001` or `AS65001`, and free text (peer name, IP, notes).\n"
        f"*`{c} show <id|ip>`* — one session, with its actions.\n"
        f"*`{c} add`* — create a session (5-step wizard).\n"
        f"*`{c} refresh [router]`* — poll routers now.\n"
        f"*`{c} discover [router]`* — read the routers' BGP configuration: the neighbors peerbot does not know yet, "
        "to import as sessions (nothing is sent to a router).\n"
        f"*`{c} drift [router]`* — what differs between the routers and peerbot, with Adopt / Fix / Ignore.\n"
        f"*`{c} help`* — this help."
    )
    return message(f"{c} help", [section(text)])


def error_message(text: str) -> dict[str, Any]:
    return message(text, [section(f":warning: {escape(text)}")])
