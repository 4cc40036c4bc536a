"""`peerbot irr …`: import, show and re-import AS-SETs, through the same service as Slack
(bot/irr/service.py). Imports run as the CLI user (`cli:<unix user>`, PEERBOT_CLI_ROLES)."""
from __future__ import annotations

from typing import Annotated

import typer

from bot.base.errors import PeerbotError
from bot.cli.context import actor, fail, open_core

irr_cli = typer.Typer(no_args_is_help=True, help="AS-SETs from the IRR (bgpq4): import, show, refresh.")


def _imports():  # noqa: ANN202
    from bot.irr.service import IrrImports

    return IrrImports(open_core())


def _print_result(result) -> None:  # noqa: ANN001
    from bot.irr.service import ImportResult

    assert isinstance(result, ImportResult)
    if not result.ok:
        typer.echo(f"{result.name}: {'flagged' if result.flagged else 'not imported'}: {result.error}")
        return
    info = result.info
    changes = ", ".join(f"IPv{c.family} +{len(c.added)} -{len(c.removed)}" for c in result.changes)
    what = "imported" if result.first_import else ("changed" if result.changed else "unchanged")
    typer.echo(f"{result.name}: {what}: {info.count_v4} IPv4 / {info.count_v6} IPv6 prefixes from {info.irr_host}"
               + (f" ({changes})" if result.changed and not result.first_import else ""))
    for c in result.changes:
        for entry in c.added:
            typer.echo(f"  + {entry}")
        for entry in c.removed:
            typer.echo(f"  - {entry}")
    if result.request_ids:
        typer.echo("change request(s) for the configured sessions: " + ", ".join(f"#{i}" for i in result.request_ids)
                   + " (`peerbot changes show N`)")
    for err in result.request_errors:
        typer.echo(f"  warning: {err}")


@irr_cli.command("import")
def irr_import(as_set: Annotated[str, typer.Argument(help="AS-EXAMPLE, AS65001:AS-CUSTOMERS, RIPE::AS-EXAMPLE or AS65001.")]) -> None:
    """Expand an AS-SET with bgpq4 and store its IPv4/IPv6 prefix lists (configured sessions using it get a Configure request when they changed)."""

    imports = _imports()
    try:
        result = imports.import_set(as_set, actor())
    except PeerbotError as exc:
        raise fail(str(exc), 2) from None
    _print_result(result)
    if not result.ok:
        raise typer.Exit(1)


@irr_cli.command("show")
def irr_show(
    as_set: Annotated[str, typer.Argument(help="The AS-SET's name.")],
    entries: Annotated[bool, typer.Option("--entries", help="Print every prefix-list entry.")] = False,
) -> None:
    """What peerbot has stored for an AS-SET: counts, when and where from, the last error."""
    from handlers.views.common import ago

    imports = _imports()
    try:
        info = imports.show(as_set)
    except PeerbotError as exc:
        raise fail(str(exc), 2) from None
    if info is None:
        raise fail(f"{as_set.strip().upper()[:100]} is not known locally: `peerbot irr import` it.", 1)
    typer.echo(f"{info.query}: {info.count_v4} IPv4 / {info.count_v6} IPv6 prefixes, imported {ago(info.imported_at)} "
               f"({info.imported_at:%Y-%m-%d %H:%M} UTC) from {info.irr_host or '?'}"
               + (f", sources {info.source}" if info.source else ""))
    if info.last_error:
        typer.echo(f"last attempt {ago(info.last_attempt_at)}: {info.last_error}")
    if entries:
        v4, v6 = imports.entries(as_set)
        for entry in v4 + v6:
            typer.echo(f"  {entry}")


@irr_cli.command("refresh")
def irr_refresh() -> None:
    """Re-import every AS-SET in use once, as the scheduled job does (a change over PEERBOT_IRR_MAX_CHANGE_PERCENT is reported, not stored)."""
    from bot.irr.refresh import IrrRefresher

    imports = _imports()
    refresher = IrrRefresher(imports, max_change_percent=imports.core.settings.irr_max_change_percent, actor=actor())
    try:
        report = refresher.run_once()
    except PeerbotError as exc:
        raise fail(str(exc), 2) from None
    assert report is not None
    for result in report.results:
        _print_result(result)
    typer.echo(f"{len(report.results)} AS-SET(s): {len(report.changed)} changed, {len(report.flagged)} flagged, "
               f"{len(report.failed)} failed")
    if report.failed or report.flagged:
        raise typer.Exit(1)
