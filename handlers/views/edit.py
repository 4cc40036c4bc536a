"""The Edit wizard's last step: what the edit changes — fields, the router configuration lines
removed / added (secrets masked) and the exact commands per router — before Save. Steps 1-4 are
the create wizard's own views (handlers/views/wizard.py), prefilled from the session."""
from __future__ import annotations

from typing import Any

from bot.services.editing import EditPreview
from handlers.views.changes import code_block
from handlers.views.common import Block, clip_mrkdwn, context, escape, section
from handlers.views.wizard import WizardState, _modal, _progress

DIFF_BUDGET = 1200  # characters of each code block (a section holds 3000)


def diff_block(removed: list[str], added: list[str], budget: int = DIFF_BUDGET) -> str:
    """Removed lines as "- …", added lines as "+ …", in one code block."""
    return code_block([f"- {line}" for line in removed] + [f"+ {line}" for line in added], budget=budget)


def edit_confirm_view(state: WizardState, preview: EditPreview | None, problem: str | None = None) -> dict[str, Any]:
    blocks: list[Block] = [_progress(5)]
    if problem or preview is None:
        blocks.append(section(f":warning: {escape(problem or 'This edit cannot be shown.')} Go back with *Previous*."))
        return _modal(state, blocks, submit="Save")
    if not preview.changes:
        blocks.append(section("Nothing is changed: the values are the session's own. *Save* closes this form."))
        return _modal(state, blocks, submit="Save")
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
        return _modal(state, blocks, submit="Request change")
    if preview.configured:
        blocks.append(context("Nothing on the router changes: *Save* updates the session directly."))
    else:
        blocks.append(context("Not configured on a router: *Save* updates the session directly."))
    return _modal(state, blocks, submit="Save")
