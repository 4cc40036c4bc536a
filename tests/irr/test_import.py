"""IrrImports.import_set on SQLite and PostgreSQL: what is stored, and what is refused with
nothing stored (empty, unknown, oversized, a viewer asking)."""
from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.base.errors import InvalidInput, PermissionDenied
from bot.irr.service import IrrImports
from storage.models import AsSet, AuditEvent
from tests.harness.bot import OPERATOR, VIEWER
from tests.irr.conftest import Irr


def _rows(core: Core) -> list[AsSet]:
    with core.db.session() as s:
        return list(s.scalars(select(AsSet)))


def test_import_stores_both_families(make_irr_core: Callable[..., Core], irr: Irr) -> None:
    core = make_irr_core()
    result = IrrImports(core).import_set("as-example", OPERATOR)
    assert result.ok and result.first_import and result.error is None
    [row] = _rows(core)
    assert row.name == "AS-EXAMPLE" and row.pinned_source is None and row.irr_host == irr.host
    assert row.prefixes_v4 == ["198.51.100.0/24 ge 25 le 25", "203.0.113.0/24"]
    assert row.prefixes_v6 == ["2001:db8:65::/48", "2001:db8:66::/48"]
    assert (row.count_v4, row.count_v6, row.last_error) == (2, 2, None)
    assert result.info.count_v4 == 2 and result.info.imported_at is not None
    with core.db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "as_set.import"))
        assert event.actor == OPERATOR and "2 IPv4 / 2 IPv6" in event.detail

    again = IrrImports(core).import_set("AS-EXAMPLE", OPERATOR)
    assert again.ok and not again.first_import and not again.changed


def test_pinned_source_is_kept_for_reimports(make_irr_core: Callable[..., Core], irr: Irr) -> None:
    core = make_irr_core()
    imports = IrrImports(core)
    assert imports.import_set("peerbot-test::AS-EXAMPLE", OPERATOR).ok
    [row] = _rows(core)
    assert (row.name, row.pinned_source, row.source) == ("AS-EXAMPLE", "PEERBOT-TEST", "PEERBOT-TEST")
    irr.server.queries.clear()
    result = imports.import_set("AS-EXAMPLE", OPERATOR)  # by name, as sessions store it
    assert result.ok and result.name == "PEERBOT-TEST::AS-EXAMPLE"
    assert "!sPEERBOT-TEST" in irr.server.queries


@pytest.mark.parametrize(("name", "reason"), [
    ("AS-EMPTY", "AS-EMPTY is empty at"),
    ("AS-NOPE", "AS-NOPE is not known at"),
    ("AS-UNROUTED", "none has route or route6 objects"),
])
def test_nothing_to_filter_with_is_an_error(make_irr_core: Callable[..., Core], name: str, reason: str) -> None:
    core = make_irr_core()
    result = IrrImports(core).import_set(name, OPERATOR)
    assert not result.ok and reason in result.error
    assert _rows(core) == []  # never an empty (deny-all) list


def test_oversized_set_is_refused_and_the_stored_lists_stay(make_irr_core: Callable[..., Core], irr: Irr) -> None:
    core = make_irr_core(PEERBOT_IRR_MAX_PREFIXES="10")
    imports = IrrImports(core)
    result = imports.import_set("AS-TWELVE", OPERATOR)
    assert not result.ok
    assert "AS-TWELVE expands to 12 IPv4 prefixes, more than PEERBOT_IRR_MAX_PREFIXES (10)" in result.error
    assert _rows(core) == []

    assert imports.import_set("AS-EXAMPLE", OPERATOR).ok
    irr.data["as-set"]["AS-EXAMPLE"].append("AS65604")  # grows past the limit
    irr.publish()
    result = imports.import_set("AS-EXAMPLE", OPERATOR)
    assert not result.ok and "14 IPv4 prefixes" in result.error
    [row] = _rows(core)
    assert row.count_v4 == 2 and len(row.prefixes_v4) == 2  # as before
    assert "PEERBOT_IRR_MAX_PREFIXES" in row.last_error and row.last_attempt_at is not None
    assert result.info is not None and result.info.last_error == row.last_error


def test_bgpq4_failure_keeps_what_was_stored(make_irr_core: Callable[..., Core], irr: Irr,
                                             monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    core = make_irr_core()
    imports = IrrImports(core)
    assert imports.import_set("AS-EXAMPLE", OPERATOR).ok
    monkeypatch.setenv("PATH", str(tmp_path))  # bgpq4 uninstalled meanwhile
    result = imports.import_set("AS-EXAMPLE", OPERATOR)
    assert not result.ok and "Debian package `bgpq4`" in result.error
    [row] = _rows(core)
    assert row.count_v4 == 2 and "bgpq4" in row.last_error


def test_who_may_import(make_irr_core: Callable[..., Core], irr: Irr) -> None:
    core = make_irr_core()
    with pytest.raises(PermissionDenied):
        IrrImports(core).import_set("AS-EXAMPLE", VIEWER)
    with pytest.raises(InvalidInput, match="AS-SET"):
        IrrImports(core).import_set("-h evil AS-EXAMPLE", OPERATOR)
    assert irr.server.queries == []  # bgpq4 never ran
    assert _rows(core) == []
