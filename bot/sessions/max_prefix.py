"""Max-prefix limits for new sessions (issue 10).

A session's limit per address family is PeeringDB's info_prefixes4/6 for the peer when the
local mirror knows it, else PEERBOT_MAX_PREFIX_DEFAULT_V4/_V6; either is multiplied by
PEERBOT_MAX_PREFIX_HEADROOM and PEERBOT_MAX_PREFIX_EXTRA is added, so a peer that grows a little
is not torn down. The result is stored on the session (max_prefixes_v4/v6), editable on the
wizard's confirmation step, and rendered with the warning percentage and restart interval.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select

from bot.core import Core
from bot.core.settings import Settings
from storage.models import PdbNet

MAX_LIMIT = 10_000_000  # the same bound the wizard and CLI accept (provisioning.parse_max_prefixes)


@dataclass(frozen=True)
class SuggestedLimit:
    limit: int
    basis: str  # plain text: where the number comes from


def with_headroom(count: int, settings: Settings) -> int:
    return min(MAX_LIMIT, math.ceil(count * settings.max_prefix_headroom) + settings.max_prefix_extra)


def suggested_limit(core: Core, family: int, *, asn: int | None = None,
                    peeringdb_net_id: int | None = None) -> SuggestedLimit:
    """The limit a new session of `family` with this peer gets unless someone types another."""
    st = core.settings
    count = None
    with core.db.session() as s:
        net = s.get(PdbNet, peeringdb_net_id) if peeringdb_net_id else None
        if (net is None or (asn is not None and net.asn != asn)) and asn is not None:
            net = s.scalar(select(PdbNet).where(PdbNet.asn == asn, PdbNet.status == "ok").order_by(PdbNet.id))
        if net is not None:
            count = net.info_prefixes4 if family == 4 else net.info_prefixes6
    factor = f"× {st.max_prefix_headroom:g} + {st.max_prefix_extra}"
    if count and count > 0:
        return SuggestedLimit(with_headroom(count, st), f"PeeringDB: {count:,} IPv{family} prefixes {factor}")
    default = st.max_prefix_default_v4 if family == 4 else st.max_prefix_default_v6
    return SuggestedLimit(with_headroom(default, st), f"no PeeringDB count: default {default:,} {factor}")
