"""Text made safe to leave the process: the one sanitiser every exit point uses.

Chainlet names, statuses, ids and error messages come from the server; shown raw, an ESC
sequence in one could retitle the window, clear the screen or hide a line, a newline could
forge an extra one, a zero-width character could hide part of a secret, a lone surrogate
(``"\\ud800"``, valid in a JSON string) could not even be encoded, so a gRPC status or a
Terraform diagnostic carrying it would fail to be sent at all. :func:`printable` is the one
function that makes text safe, and every exit point calls it: the command line's lines
(:mod:`provider.cli`), Terraform's diagnostics (:mod:`provider.terraform.diagnostics`), the
plugin's gRPC statuses and engine log lines (:mod:`provider.plugin`), the dynamic provider's
log lines, the plugins' stderr logging (:func:`log_handler`), and the text of every
:class:`~provider.errors.BasetenError` (its ``str``).

What a caller may rely on, for any ``str`` whatever it holds:

* no control character (C0, DEL, C1), bidirectional override or isolate, invisible character
  (:data:`INVISIBLE`) or surrogate is left: each is escaped Python-style (``\\x1b``, ``\\n``,
  ``\\u202e``, ``\\u200b``, ``\\ud800``), so the text shows what was sent and does nothing;
* the result encodes as strict UTF-8 (``.encode("utf-8")`` never raises);
* the result is at most ``limit`` characters (default :data:`MAX_TEXT_CHARS`); when text was
  cut, it ends with :func:`cut_marker`'s ``… [N more characters cut]``, N counting the
  characters of ``text`` that are not shown;
* it is idempotent: already printable text within the limit comes back unchanged (backslashes
  are not doubled).

JSON output never goes through it: ``--json`` stays exact (and ASCII).
"""

from __future__ import annotations

import logging
import re
from typing import TextIO

INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200d\u2028\u2029"
    "\u2060-\u2064\u206a-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef"
)
"""A regex character class (without brackets) of the characters that show nothing: zero-width
and joiner characters, line and paragraph separators, soft hyphen, fillers, variation selectors,
tags and the byte-order mark. Declared once: escaped for display here, skipped when matching a
secret (provider.redaction)."""

MAX_TEXT_CHARS = 2000
"""The most characters :func:`printable` returns by default: room for any message this package
writes with the server's text in it, small enough that a gRPC status (whose details travel in
an HTTP/2 header) or a terminal line stays a reasonable size whatever the server sent."""

_UNSAFE = re.compile(
    f"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff{INVISIBLE}]"
)
_MARKER_RESERVE = 40  # room for cut_marker() of any count a str can have


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(char: str) -> str:
    # Spelled out rather than repr(): repr leaves "printable" invisibles (U+FE0F, U+3164) raw.
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _escape_char(char: str) -> str:
    return _escaped(char) if _UNSAFE.match(char) else char


def _escape(match: re.Match[str]) -> str:
    return _escaped(match.group())


def cut_marker(count: int) -> str:
    """What ends text that :func:`printable` cut: how many characters are not shown."""
    return f"… [{count} more characters cut]"


def printable(text: str, limit: int = MAX_TEXT_CHARS) -> str:
    """``text`` escaped and bounded (see the module's promises): nothing in it acts on a
    terminal or hides, it always encodes, and it is at most ``limit`` characters long
    (``limit`` at least 50)."""
    limit = max(limit, _MARKER_RESERVE + 10)
    if len(text) <= limit:
        escaped = _UNSAFE.sub(_escape, text)
        if len(escaped) <= limit:
            return escaped
    # Too long: escape only what fits (each character escapes to at least one), so the cost
    # is bounded by ``limit`` whatever the length of ``text``.
    budget = limit - _MARKER_RESERVE
    pieces: list[str] = []
    used = shown = 0
    for char in text:
        piece = _escape_char(char)
        if used + len(piece) > budget:
            break
        pieces.append(piece)
        used += len(piece)
        shown += 1
    return "".join(pieces) + cut_marker(len(text) - shown)


class PrintableFormatter(logging.Formatter):
    """Each log record as one :func:`printable` line (a traceback's newlines escaped too)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def log_handler(stream: TextIO, fmt: str) -> logging.Handler:
    """A handler writing records to ``stream`` through :class:`PrintableFormatter`: for the
    processes whose stderr a user reads (the plugin's, the Terraform provider's)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(PrintableFormatter(fmt))
    return handler
