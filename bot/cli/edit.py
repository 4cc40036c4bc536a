"""`peerbot sessions edit ID [--option ...]`: the Edit button without Slack.

Options not given keep the session's values; the same service (bot.changes.editing.edit_session)
validates and decides: a session not on a router is updated at once, a router change becomes the
same change request the Edit button makes (run here when no approval is needed, like the other
CLI changes). The MD5 key never comes from an argument: `--md5-env VAR`, `--md5-file PATH` or
`--md5-prompt`; `--no-md5` removes it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from bot.base.errors import InvalidInput, PeerbotError
from bot.cli.context import actor, open_core, fail, local_asn_of, md5_from, report_field_errors, resolve_names, run_and_report

NONE_WORDS = ("", "none", "-")  # --peer-group none / --as-set - clear the value


def sessions_edit(
    session: Annotated[int, typer.Argument(help="Session id.")],
    session_type: Annotated[str | None, typer.Option("--type", help="public, private or local.")] = None,
    exchange: Annotated[str | None, typer.Option(help="Exchange name (peerbot exchanges list).")] = None,
    router: Annotated[str | None, typer.Option(help="Router name: a different router is a move.")] = None,
    peer_group: Annotated[str | None, typer.Option("--peer-group", help="Peer group on the router; 'none' leaves it.")] = None,
    local_asn: Annotated[str | None, typer.Option("--local-asn", help="One of the router's local ASNs.")] = None,
    peer_name: Annotated[str | None, typer.Option("--peer-name", "--description", help="The peer's name (the neighbor description).")] = None,
    peer_asn: Annotated[str | None, typer.Option("--peer-asn", help="The remote ASN.")] = None,
    peer_ip: Annotated[str | None, typer.Option("--peer-ip", help="The peer's address: a different one is a move.")] = None,
    as_set: Annotated[str | None, typer.Option("--as-set", help="AS-SET; 'none' removes it.")] = None,
    max_prefixes_v4: Annotated[str | None, typer.Option("--max-prefixes-v4", help="IPv4 limit; 'none' removes it.")] = None,
    max_prefixes_v6: Annotated[str | None, typer.Option("--max-prefixes-v6", help="IPv6 limit; 'none' removes it.")] = None,
    notes: Annotated[str | None, typer.Option(help="Notes; 'none' clears them.")] = None,
    md5_env: Annotated[str | None, typer.Option("--md5-env", metavar="VAR", help="New TCP-MD5 key from this environment variable.")] = None,
    md5_file: Annotated[Path | None, typer.Option("--md5-file", help="New TCP-MD5 key: the first line of this file.")] = None,
    md5_prompt: Annotated[bool, typer.Option("--md5-prompt", help="Type the new TCP-MD5 key at a hidden prompt.")] = False,
    no_md5: Annotated[bool, typer.Option("--no-md5", help="Remove the TCP-MD5 key.")] = False,
) -> None:
    """Edit a session: the same checks as the Slack Edit wizard. A configured session's router
    change becomes a change request (its exact commands are printed, secrets masked)."""
    from bot.sessions.catalog import list_exchanges, list_routers
    from bot.changes.editing import draft_from_session, edit_session
    from storage.models import ChangeState

    if sum(bool(x) for x in (md5_env, md5_file, md5_prompt, no_md5)) > 1:
        raise fail("give one of --md5-env, --md5-file, --md5-prompt, --no-md5")
    md5 = _md5_file(md5_file) if md5_file else md5_from(md5_env, md5_prompt)
    core = open_core()
    try:
        current = draft_from_session(core, session)
    except PeerbotError as exc:
        raise fail(str(exc), 1) from None
    errors: dict[str, str] = {}
    upd: dict[str, object] = {}
    routers = {r.id: r.name for r in list_routers(core.db)}
    if exchange is not None or router is not None or peer_group is not None or session_type is not None:
        ex_name = exchange or next((x.name for x in list_exchanges(core.db) if x.id == current.exchange_id), None)
        r_name = router or routers.get(current.router_id or 0, "")
        group = None if (peer_group or "").strip().lower() in NONE_WORDS else peer_group
        ex_id, r_id, g_id = resolve_names(core, session_type or current.session_type or "", ex_name, r_name, group, errors)
        upd |= {"exchange_id": ex_id, "router_id": r_id}
        if peer_group is not None:
            upd["peer_group_id"] = g_id
        elif router is not None and r_id != current.router_id:
            upd["peer_group_id"] = None  # the old router's group is not the new router's
    if session_type is not None:
        upd["session_type"] = session_type.strip().lower()
    if local_asn is not None:
        upd["local_asn"] = local_asn_of(local_asn, errors)
    for name, value in (("peer_name", peer_name), ("peer_asn", peer_asn), ("peer_ip", peer_ip)):
        if value is not None:
            upd[name] = value
    if peer_name is not None or peer_asn is not None:
        upd["peer_id"] = None  # a different name or ASN: found by both, or a peer of its own
        upd["peeringdb_net_id"] = current.peeringdb_net_id if peer_asn is None else None
    for name, value in (("as_set", as_set), ("max_prefixes_v4", max_prefixes_v4),
                        ("max_prefixes_v6", max_prefixes_v6), ("notes", notes)):
        if value is not None:
            upd[name] = None if value.strip().lower() in ("none", "-") else value
    if errors:
        report_field_errors(errors)
    changes = current.model_copy(update={**upd, "md5": md5, "remove_md5": no_md5})
    try:
        result = edit_session(core, actor(), session, changes)
    except InvalidInput as exc:
        report_field_errors(exc.errors)
    except PeerbotError as exc:
        raise fail(str(exc), 2 if "not allowed" in str(exc) else 1) from None
    for line in result.preview.changes:
        typer.echo(f"  {line}")
    if result.outcome == "unchanged":
        typer.echo(f"session #{session}: nothing changed")
        return
    if result.outcome == "updated":
        typer.echo(f"session #{session} updated" + ("" if result.session.configured else " (not configured on a router)"))
        return
    view = result.request
    for item in view.items:  # type: ignore[union-attr]
        typer.echo(f"Commands for {item.label}:\n  " + "\n  ".join(item.commands))
    if view.state == ChangeState.REQUESTED:  # type: ignore[union-attr]
        typer.echo(f"Request #{view.id} waits for approval: an approver approves it in Slack "  # type: ignore[union-attr]
                   f"(or `peerbot changes approve {view.id}`).")  # type: ignore[union-attr]
        return
    from bot.changes.requests import ChangeRequests

    run_and_report(ChangeRequests(core), view.id)  # type: ignore[union-attr]


def _md5_file(path: Path) -> str:

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"--md5-file: cannot read {str(path)[:100]} ({type(exc).__name__})") from None
    key = text.splitlines()[0].strip() if text.strip() else ""
    if not key:
        raise fail("--md5-file: the file is empty")
    return key
