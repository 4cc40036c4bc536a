"""`peerbot routers discover` and `peerbot drift …`: discovery, import and drift through the same
services as Slack (bot/adoption). Imports and decisions run as the CLI user (`cli:<unix user>`,
PEERBOT_CLI_ROLES)."""
from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.base.errors import PeerbotError
from bot.cli.context import actor, fail, one_line, open_core, table

drift_cli = typer.Typer(no_args_is_help=True, help="Differences between the routers and peerbot: check, adopt, fix, ignore.")


def _core_and_routers(names: list[str] | None):  # noqa: ANN202
    """The core, and the ids of the named routers (every router when none); exit 2 on an unknown name."""
    from bot.adoption.discovery import resolve_routers

    core = open_core()
    try:
        return core, [i for i, _ in resolve_routers(core, names or [])]
    except PeerbotError as exc:
        raise fail(str(exc)) from None


def routers_discover(
    routers: Annotated[list[str] | None, typer.Argument(help="Router names; every router when left out.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what was found as JSON.")] = False,
    do_import: Annotated[bool, typer.Option("--import", help="Import the new neighbors as sessions (no router change).")] = False,
) -> None:
    """Read the routers' BGP neighbor configuration and say what is new, known and different."""
    from bot.adoption.discovery import NEW, Discovery
    from bot.adoption.importer import import_neighbors

    core, router_ids = _core_and_routers(routers)
    found = Discovery(core).discover(router_ids)
    imported = {}
    if do_import:
        for d in found:
            if d.ok and d.count(NEW):
                try:
                    imported[d.router] = import_neighbors(core, actor(), d.router_id)
                except PeerbotError as exc:
                    raise fail(str(exc), 2 if "not allowed" in str(exc) else 1) from None
    if as_json:
        typer.echo(json.dumps([{
            "router": d.router, "ok": d.ok, "error": d.error,
            "neighbors": [{"peer_ip": n.peer_ip, "status": n.status, "remote_asn": n.remote_asn,
                           "description": n.description, "session_id": n.session_id,
                           "differences": list(n.differences)} for n in d.neighbors],
            "skipped": list(d.skipped), "gone": [{"session_id": sid, "peer_ip": ip} for sid, ip in d.gone],
            "imported": [{"session_id": sid, "peer_ip": ip, "peer": name}
                         for sid, ip, name in (imported[d.router].created if d.router in imported else [])],
        } for d in found], indent=2))
    else:
        for d in found:
            typer.echo(d.summary)
            if not d.ok:
                continue
            rows = [("STATUS", "NEIGHBOR", "REMOTE AS", "DESCRIPTION", "SESSION", "DIFFERENCES")]
            rows += [(n.status, n.peer_ip, f"AS{n.remote_asn}" if n.remote_asn else "-", one_line(n.description, 40),
                      f"#{n.session_id}" if n.session_id else "-", "; ".join(n.differences) or "-")
                     for n in d.neighbors]
            if len(rows) > 1:
                table(rows)
            for k in d.skipped:
                typer.echo(f"  not understood: {one_line(k.get('peer'), 40)}: {one_line(k.get('reason'), 120)}")
            for sid, ip in d.gone:
                typer.echo(f"  session #{sid} {ip} is configured in peerbot but not on the router")
            if d.router in imported:
                r = imported[d.router]
                typer.echo("  " + r.summary)
                for ip, why in r.failed:
                    typer.echo(f"  not imported: {ip}: {why}")
        if not do_import and any(d.ok and d.count(NEW) for d in found):
            typer.echo("Import the new neighbors with --import (no router change).")
    if not all(d.ok for d in found):
        raise typer.Exit(1)


@drift_cli.command("check")
def drift_check(
    routers: Annotated[list[str] | None, typer.Argument(help="Router names; every router when left out.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Read the routers now and list what differs from peerbot (the scheduled check reports it in Slack)."""
    from bot.adoption.drift import Drift

    core, router_ids = _core_and_routers(routers)
    reports = Drift(core).check(router_ids, report=False)
    if as_json:
        typer.echo(json.dumps([{"router": r.router, "ok": r.ok, "error": r.error, "items": [
            {"id": i.id, "peer_ip": i.peer_ip, "kind": i.kind, "session_id": i.session_id,
             "differences": list(i.differences)} for i in r.items]} for r in reports], indent=2))
    else:
        for r in reports:
            if not r.ok:
                typer.echo(f"{r.router}: {r.error}")
                continue
            typer.echo(f"{r.router}: {len(r.items)} difference(s)" if r.items else f"{r.router}: in step")
            for i in r.items:
                typer.echo(f"  #{i.id} {i.text}")
        if any(r.items for r in reports):
            typer.echo("Decide with `peerbot drift adopt|fix|ignore <#>`.")
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


def _decide(what: str, item_id: int) -> None:
    from bot.adoption.drift import Drift

    drift = Drift(open_core())
    try:
        if what == "fix":
            view = drift.fix(actor(), item_id)
            typer.echo(f"Request #{view.id} ({view.summary}) {view.state.value}: "
                       f"`peerbot changes show {view.id}`")
            for item in view.items:
                typer.echo("  " + "\n  ".join(item.commands))
        else:
            typer.echo(getattr(drift, what)(actor(), item_id))
    except PeerbotError as exc:
        raise fail(str(exc), 2 if "not allowed" in str(exc) else 1) from None


@drift_cli.command("adopt")
def drift_adopt(item: int) -> None:
    """Take the router's value into peerbot (no router change)."""
    _decide("adopt", item)


@drift_cli.command("fix")
def drift_fix(item: int) -> None:
    """Ask for a Configure that brings the router back to peerbot's values (through approvals)."""
    _decide("fix", item)


@drift_cli.command("ignore")
def drift_ignore(item: int) -> None:
    """Ignore the difference until it changes again."""
    _decide("ignore", item)
