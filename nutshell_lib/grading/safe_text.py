"""Text that came from a submission, made safe to show: on a terminal, in a CSV opened by a
spreadsheet, in Gradescope's feedback."""
from __future__ import annotations

import re

# C0 and C1 control characters (ANSI escapes start with one, \r rewrites a terminal line) and the
# Unicode controls that reorder or hide text; tab and newline are kept where lines are allowed.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str, *, lines: bool = True) -> str:
    """``text`` with every control character written as an escape (``\\x1b``); newlines and tabs
    are kept when ``lines`` is true, and escaped too otherwise."""
    pattern = _CONTROLS if lines else re.compile(f"{_CONTROLS.pattern[:-1]}\t\n]")
    return pattern.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


def spreadsheet_cell(value):
    """A CSV field: numbers as they are; text on one line, printable, and never read as a formula
    (a leading ``= + - @`` gets an apostrophe, as spreadsheets themselves do)."""
    if isinstance(value, (int, float)):
        return value
    text = printable(str(value), lines=False)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
