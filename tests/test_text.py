"""The one sanitiser's promises (:func:`provider.text.printable`), for any string Hypothesis
can make (surrogates, controls, invisibles and all), and that errors keep them."""

from __future__ import annotations

import io
import logging
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from provider.errors import ApiError, NotFoundError, one_line
from provider.text import INVISIBLE, MAX_TEXT_CHARS, cut_marker, log_handler, printable

UNSAFE = re.compile(
    f"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff{INVISIBLE}]"
)
# Every code point, surrogates included, weighted towards the characters that need escaping.
ANY_CHAR = st.characters(codec=None, categories=None) | st.sampled_from(
    "\x00\x1b\x07\n\r\t\x7f\x85\u200b\u200d\u2028\u2029\u061c\ufeff\u202e\u2066\ud800\udfff"
    "\ufe0f\u3164\U000e0001"
)
TEXT = st.text(ANY_CHAR, max_size=300) | st.text(ANY_CHAR, min_size=1900, max_size=2600)


@settings(max_examples=300, deadline=None)
@given(TEXT, st.integers(min_value=50, max_value=3000))
def test_printable_escapes_encodes_and_bounds_any_text(text: str, limit: int) -> None:
    shown = printable(text, limit)
    assert UNSAFE.search(shown) is None
    shown.encode("utf-8")  # strict: never raises
    assert len(shown) <= limit
    assert printable(shown, limit) == shown  # idempotent: safe to apply at every exit


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_text_is_cut_only_when_too_long_and_then_says_how_much(text: str) -> None:
    shown = printable(text)
    marker = re.search(r"… \[(\d+) more characters cut\]$", shown)
    if marker is None:
        # Not cut: every character is there, escaped or as it was.
        assert len(shown) >= len(text)
    else:
        cut = int(marker.group(1))
        assert 0 < cut <= len(text)
        assert len(shown) <= MAX_TEXT_CHARS


def test_escapes_are_spelled_out_python_style() -> None:
    assert printable("a\x1b]0;t\x07\nb") == "a\\x1b]0;t\\x07\\nb"
    assert printable("gone \ud800") == "gone \\ud800"
    assert printable("k\u200be\ufe0fy\u2028\U000e0041") == "k\\u200be\\ufe0fy\\u2028\\U000e0041"
    assert printable("été ✓ 中文") == "été ✓ 中文"  # printable non-ASCII stays as it is


def test_a_megabyte_is_cut_in_bounded_time_with_the_count() -> None:
    shown = printable("N" * 1_000_000, 100)
    kept = shown.count("N")
    assert shown == "N" * kept + cut_marker(1_000_000 - kept)
    assert len(shown) <= 100


@given(st.text(ANY_CHAR, max_size=3000))
@settings(max_examples=100, deadline=None)
def test_every_error_text_is_printable(message: str) -> None:
    for error in (ApiError(message, status=500), NotFoundError(message, what="chain")):
        for text in (str(error), one_line(error)):
            assert UNSAFE.search(text) is None
            text.encode("utf-8")
            assert len(text) <= MAX_TEXT_CHARS


def test_log_records_reach_stderr_as_one_printable_line() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("tests.text.printable")
    logger.propagate = False
    logger.addHandler(log_handler(stream, "%(name)s: %(message)s"))
    logger.error("status %s", "ACTIVE\nFAKE\x1b[2J\ud800")
    assert stream.getvalue() == "tests.text.printable: status ACTIVE\\nFAKE\\x1b[2J\\ud800\n"
