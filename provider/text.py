"""Server text made safe for a terminal.

Chainlet names, statuses and error messages come from the server; shown raw, an ESC sequence
in one could retitle the window, clear the screen or hide a line, and a newline could forge an
extra one. :func:`printable` escapes every control character (C0, DEL, C1) and the Unicode
bidirectional overrides, Python-style (``\\x1b``, ``\\n``, ``\\u202e``), so the text shows what
was sent and does nothing. JSON output never goes through it: ``--json`` stays exact.
"""

from __future__ import annotations

import re

INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2028\u2029"
    "\u2060-\u2064\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)
"""A regex character class (without brackets) of the characters that show nothing: zero-width
and joiner characters, line and paragraph separators, soft hyphen, fillers, variation selectors,
tags and the byte-order mark. Declared once: escaped for display here, skipped when matching a
secret (provider.redaction)."""

_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069{INVISIBLE}]")


def _escape(match: re.Match[str]) -> str:
    return repr(match.group())[1:-1]


def printable(text: str) -> str:
    """``text`` with every control character escaped (no terminal effect, nothing hidden)."""
    return _UNSAFE.sub(_escape, text)
