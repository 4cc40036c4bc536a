"""Looking around without Slack: `peerbot routers list`, `peerbot exchanges list`,
`peerbot sessions show ID`, and `peerbot sessions add` (non-interactive).

`sessions add` builds the same `SessionDraft` the wizard builds and goes through the same
service (`create_session_once`, which runs `check_draft`): the same checks, the same errors.
The MD5 key never comes from an argument (argv is visible to every user in `ps`): it is read
from the environment variable `--md5-env` names, or typed at a hidden prompt (`--md5-prompt`).
"""
from __future__ import annotations

from typing import Annotated

import typer

from bot.base.errors import InvalidInput, PeerbotError
from bot.cli.context import OPTION_OF, actor, open_core, dash, fail, local_asn_of, md5_from, one_line, report_field_errors, resolve_names, table, when

routers_cli = typer.Typer(no_args_is_help=True, help="Routers (from the inventory).")

@routers_cli.command("list")
def routers_list() -> None:
    """Print the routers with platform, local ASNs, peer groups, sessions and last poll."""
    from bot.sessions.catalog import list_routers

    routers = list_routers(open_core().db)
    rows = [("NAME", "PLATFORM", "HOST", "LOCAL ASNS", "PEER GROUPS", "SESSIONS", "LAST POLLED", "LAST ERROR")]
    for r in routers:
        rows.append((r.name, r.platform, f"{r.host}:{r.port}", ", ".join(f"AS{a}" for a in r.local_asns) or "-",
                     ", ".join(r.peer_groups) or "-", str(r.session_count),
                     when(r.last_polled) if r.last_polled else "never", one_line(r.last_error, 40)))
    table(rows)
    typer.echo(f"{len(routers)} router(s)")


def exchanges_list() -> None:
    """Print the exchanges with their peering LANs ("No Exchange" is built in)."""
    from bot.sessions.catalog import list_exchanges

    exchanges = list_exchanges(open_core().db)
    rows = [("NAME", "PEERINGDB IX", "IPV4 LAN", "IPV6 LAN")]
    for x in exchanges:
        rows.append((x.name, "(built in)" if x.is_none else dash(x.peeringdb_ix_id),
                     dash(x.lan_prefix_v4), dash(x.lan_prefix_v6)))
    table(rows)
    typer.echo(f"{len(exchanges)} exchange(s)")


def sessions_show(session: Annotated[str, typer.Argument(help="Session id, or the peer's IP address.")]) -> None:
    """Print every field of one session, its state and its last error (the MD5 only as set / not set)."""
    from bot.sessions.queries import get_session

    try:
        v = get_session(open_core().db, session)
    except PeerbotError as exc:
        raise fail(str(exc), 1) from None
    for label, value in session_fields(v):
        typer.echo(f"{label + ':':20s}{value}")


def session_fields(v) -> list[tuple[str, str]]:  # noqa: ANN001 - a SessionView
    """What `sessions show` prints, in order; never a secret."""
    fields = [
        ("Session", f"#{v.id}"),
        ("State", v.display_state),
        ("Type", v.session_type),
        ("Exchange", v.exchange_name),
        ("Router", f"{v.router_name} ({v.router_platform})"),
        ("Router URL", dash(v.router_url)),
        ("Peer group", dash(v.peer_group)),
        ("Local ASN", f"AS{v.local_asn}"),
        ("Peer", v.peer_name),
        ("Peer ASN", f"AS{v.peer_asn}"),
        ("PeeringDB net", dash(v.peeringdb_net_id)),
        ("Peer IP", f"{v.peer_ip} (IPv{v.address_family})"),
        ("MD5", "set" if v.has_md5 else "not set"),
        ("AS-SET", dash(v.as_set)),
        ("Configured", "yes" if v.configured else "no"),
        ("Admin status", v.admin_status),
        ("BGP state", dash(v.bgp_state)),
        ("Prefixes", f"received {dash(v.prefixes_received)}, accepted {dash(v.prefixes_accepted)}, "
                     f"advertised {dash(v.prefixes_advertised)}"),
        ("State since", when(v.last_state_change)),
        ("Last polled", when(v.last_polled)),
        ("Last error", one_line(v.last_error, 200)),
    ]
    for family in (4, 6):
        limit = getattr(v, f"max_prefixes_v{family}", None)
        if limit is not None:
            fields.append((f"Max prefixes IPv{family}", str(limit)))
    pending = getattr(v, "pending_change", None)
    if pending is not None:
        fields.append(("Pending change", f"#{pending.request_id} {pending.action} ({pending.state}, "
                                         f"by {pending.requested_by})"))
    email = getattr(v, "last_email", None)
    if email is not None:
        fields.append(("Last email", f"{email.template} to {', '.join(email.recipients)} by {email.actor}, "
                                     f"{when(email.sent_at)}"))
    fields += [
        ("Notes", one_line(v.notes, 500)),
        ("Created", f"{when(v.created_at)} by {dash(v.created_by)}"),
        ("Updated", when(v.updated_at)),
    ]
    return fields


def sessions_add(
    session_type: Annotated[str, typer.Option("--type", help="public (at an exchange), private (PNI) or local.")],
    router: Annotated[str, typer.Option(help="Router name (peerbot routers list).")],
    local_asn: Annotated[str, typer.Option("--local-asn", help="One of the router's local ASNs.")],
    peer_asn: Annotated[str, typer.Option("--peer-asn", help="65001, AS65001 or asdot.")],
    peer_name: Annotated[str, typer.Option("--peer-name", help="The peer's name (goes into the neighbor description).")],
    peer_ip: Annotated[str, typer.Option("--peer-ip", help="The peer's IPv4 or IPv6 address.")],
    exchange: Annotated[str | None, typer.Option(help="Exchange name (peerbot exchanges list); default for private/local: No Exchange.")] = None,
    peer_group: Annotated[str | None, typer.Option("--peer-group", help="Peer group on the router.")] = None,
    as_set: Annotated[str | None, typer.Option("--as-set", help="e.g. AS-EXAMPLE or RIPE::AS-EXAMPLE.")] = None,
    md5_env: Annotated[str | None, typer.Option("--md5-env", metavar="VAR", help="Read the TCP-MD5 key from this environment variable (never give the key itself on the command line).")] = None,
    md5_prompt: Annotated[bool, typer.Option("--md5-prompt", help="Type the TCP-MD5 key at a hidden prompt.")] = False,
    max_prefixes_v4: Annotated[str | None, typer.Option("--max-prefixes-v4", help="IPv4 max-prefix limit.")] = None,
    max_prefixes_v6: Annotated[str | None, typer.Option("--max-prefixes-v6", help="IPv6 max-prefix limit.")] = None,
    notes: Annotated[str | None, typer.Option(help="Free text notes.")] = None,
) -> None:
    """Create a session without Slack, through the same checks as the /peering add wizard.
    Every invalid field is reported (exit 2); the session is created, not configured."""
    from bot.core.access import Role
    from bot.sessions.provisioning import SessionDraft, check_draft, create_session_once

    md5 = md5_from(md5_env, md5_prompt)
    core = open_core()
    who = actor()
    try:
        core.access.require(who, Role.OPERATOR, "create sessions")
    except PeerbotError as exc:
        raise fail(str(exc), 1) from None
    errors: dict[str, str] = {}
    exchange_id, router_id, group_id = resolve_names(core, session_type, exchange, router, peer_group, errors)
    draft = SessionDraft(
        session_type=session_type.strip().lower(), exchange_id=exchange_id, notes=notes, router_id=router_id,
        peer_group_id=group_id, local_asn=local_asn_of(local_asn, errors), md5=md5, peer_name=peer_name,
        peer_asn=peer_asn, peer_ip=peer_ip, as_set=as_set, max_prefixes_v4=max_prefixes_v4,
        max_prefixes_v6=max_prefixes_v6,
    )
    check = check_draft(core, draft)
    errors = {**check.errors, **errors}  # a name we could not resolve explains itself better
    if errors:
        report_field_errors(errors)
    try:
        view, _created = create_session_once(core, draft, actor=who)
    except InvalidInput as exc:
        report_field_errors(exc.errors)
    except PeerbotError as exc:  # e.g. Conflict: the same IP was taken meanwhile
        raise fail(str(exc), 1) from None
    for field_name, warning in check.warnings.items():
        typer.echo(f"warning: {OPTION_OF.get(field_name, field_name)}: {warning}", err=True)
    typer.echo(f"created session #{view.id}: {view.peer_name} AS{view.peer_asn} {view.peer_ip} on "
               f"{view.router_name} ({view.exchange_name}); not configured yet: peerbot sessions configure {view.id}")
