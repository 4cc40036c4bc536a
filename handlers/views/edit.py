"""The Edit wizard's last step: what the edit changes — fields, the router configuration lines
removed / added (secrets masked) and the exact commands per router — before Save. Steps 1-4 are
the create wizard's own views (handlers/views/wizard.py), prefilled from the session.

As on the create wizard's confirmation step, the max-prefix limit is an input here (prefilled
from the session; empty: no limit). The preview is computed from the limits in the form's state:
when Save is pressed with other limits typed, the step is drawn again with the commands for them
(handlers/edit.py save), so what is requested is always what was shown."""
from __future__ import annotations

from typing import Any

from collections.abc import Sequence

from bot.changes.editing import EditPreview
from handlers.views.changes import code_block
from handlers.views.common import Block, clip, clip_mrkdwn, context, escape, section
from handlers.views.wizard import (
    MAX_PREFIXES_INPUT_MAX, LimitInput, WizardState, input_block, problem_banner, progress_block, text_element,
    wizard_modal,
)

DIFF_BUDGET = 1200  # characters of each code block (a section holds 3000)


def diff_block(removed: list[str], added: list[str], budget: int = DIFF_BUDGET) -> str:
    """Removed lines as "- …", added lines as "+ …", in one code block."""
    return code_block([f"- {line}" for line in removed] + [f"+ {line}" for line in added], budget=budget)


def limit_input(state: WizardState, lim: LimitInput) -> Block:
    """The session's max-prefix limit of one family, as the session has it (optional: empty
    removes the limit)."""
    name = f"max_prefixes_v{lim.family}"
    return input_block(name, state.rev, text_element(name, getattr(state, name), max_length=MAX_PREFIXES_INPUT_MAX),
                       optional=True,
                       hint=clip(f"Empty: no limit. Suggested {lim.suggested:,} ({lim.basis}). The router warns at "
                            f"{lim.warn_percent} % and tears the session down above the limit.", 2000))


def edit_confirm_view(state: WizardState, preview: EditPreview | None, problem: str | None = None, *,
                      limits: Sequence[LimitInput] = (), errors: dict[str, str] | None = None,
                      note: str | None = None) -> dict[str, Any]:
    blocks: list[Block] = [progress_block(5), *problem_banner(errors, ("max_prefixes_v4", "max_prefixes_v6"))]
    if note:
        blocks.append(section(escape(note)))
    blocks += [limit_input(state, lim) for lim in limits]
    if problem or preview is None:
        blocks.append(section(f":warning: {escape(problem or 'This edit cannot be shown.')} Go back with *Previous*."))
        return wizard_modal(state, blocks, submit="Save")
    if not preview.changes:
        blocks.append(section("Nothing is changed: the values are the session's own. *Save* closes this form."))
        return wizard_modal(state, blocks, submit="Save")
    blocks.append(section(clip_mrkdwn("*Changes*\n" + "\n".join(f"• {escape(c)}" for c in preview.changes[:30]), 3000)))
    if preview.touches_router:
        if preview.move:
            blocks.append(section(":truck: *A move*: the neighbor is removed from its router and added at the new "
                                  "place, in one change request."))
        blocks.append(section(clip_mrkdwn("*Router configuration* (lines removed / added)\n"
                                          + diff_block(preview.removed, preview.added), 3000)))
        for step in preview.steps:
            blocks.append(section(clip_mrkdwn(f"*Commands sent to {escape(step.router_name)}* ({step.kind})\n"
                                              + code_block(step.masked, budget=DIFF_BUDGET), 3000)))
        blocks.append(context("*Request change* asks for approval; the session takes the new values once the "
                              "router has them."))
        return wizard_modal(state, blocks, submit="Request change")
    if preview.configured:
        blocks.append(context("Nothing on the router changes: *Save* updates the session directly."))
    else:
        blocks.append(context("Not configured on a router: *Save* updates the session directly."))
    return wizard_modal(state, blocks, submit="Save")
