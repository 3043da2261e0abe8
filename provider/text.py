"""Server text made safe for a terminal.

Chainlet names, statuses and error messages come from the server; shown raw, an ESC sequence
in one could retitle the window, clear the screen or hide a line, and a newline could forge an
extra one. :func:`printable` escapes every control character (C0, DEL, C1) and the Unicode
bidirectional overrides, Python-style (``\\x1b``, ``\\n``, ``\\u202e``), so the text shows what
was sent and does nothing. JSON output never goes through it: ``--json`` stays exact.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]


def printable(text: str) -> str:
    """``text`` with every control character escaped (no terminal effect, nothing hidden)."""
    return _UNSAFE.sub(_escape, text)
