"""AS-SET names are RPSL names: ASCII letters, digits, `-` and `_` only."""
from __future__ import annotations

import pytest

from bot.base.validation import FieldError, parse_as_set


@pytest.mark.parametrize("text", [
    "AS-EXAMPLE\u0663",          # Arabic-Indic digit three
    "AS\u0666\u0665\u0660\u0660\u0661",  # AS65001 in Arabic-Indic digits
    "AS-\u212aILO",              # KELVIN SIGN: upper-cases/folds to "K" under re.IGNORECASE
    "as-\u017fet",               # LATIN SMALL LETTER LONG S: matches "S" under re.IGNORECASE
    "AS-\uff25XAMPLE",           # fullwidth E
    "\uff21\uff33-EXAMPLE",      # fullwidth "AS"
    "AS65001:AS-\u0130X",        # dotted capital I
    "AS6500\u00b9",              # superscript one
])
def test_non_ascii_as_sets_are_refused(text: str) -> None:
    with pytest.raises(FieldError):
        parse_as_set(text)


@pytest.mark.parametrize(("text", "value"), [
    ("as-example", "AS-EXAMPLE"), ("AS65001:AS-CUSTOMERS", "AS65001:AS-CUSTOMERS"), ("AS65001", "AS65001"),
    ("RIPE::AS-EX_1", "AS-EX_1"), ("AS-A:AS-B", "AS-A:AS-B"),
])
def test_ascii_as_sets_still_pass(text: str, value: str) -> None:
    assert parse_as_set(text) == value
