"""The one leak oracle: search everything a flow produced for an API key, raw or base64.

:data:`TEST_KEY` is the key tests configure and :data:`WRONG_KEY` the one they use to be
refused; both are recognisable. :func:`key_forms` lists what to look for: the key itself and
its base64 encodings (standard and URL-safe) at each of the three byte alignments, trimmed to
the characters that do not depend on the neighbouring bytes, so the key is found even inside a
longer base64 string (a pickled provider, a serialized Struct, an encoded header). :func:`scan`
searches named texts ("places") and returns every hit; :func:`assert_no_key` fails on any.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

TEST_KEY = "sk-test-LEAKCHECK-7f3a9c2e"
WRONG_KEY = "sk-wrong-NOTTHEKEY-0c1d2e3f"


@dataclass(frozen=True)
class Hit:
    """``form`` of the key found in the place called ``place`` at ``offset``."""

    place: str
    form: str
    offset: int


def key_forms(key: str) -> list[str]:
    """The key and the alignment-independent core of each of its base64 encodings."""
    raw = key.encode()
    forms = [key]
    for pad in range(3):
        for encode in (base64.b64encode, base64.urlsafe_b64encode):
            encoded = encode(b"\0" * pad + raw).decode()
            # Skip the characters that mix padding bits in, and the last (partial) group.
            start = (pad * 8 + 5) // 6 if pad else 0
            core = encoded[start : start + 4 * (len(raw) // 3) - 4]
            if core not in forms:
                forms.append(core)
    return forms


def as_text(value: str | bytes) -> str:
    """Bytes are searched byte for byte (latin-1 maps every byte to one character)."""
    return value.decode("latin-1") if isinstance(value, bytes) else value


def scan(places: Mapping[str, str | bytes], key: str) -> list[Hit]:
    """Every occurrence of every form of ``key`` in every place."""
    forms = key_forms(key)
    hits: list[Hit] = []
    for place, value in places.items():
        text = as_text(value)
        for form in forms:
            start = text.find(form)
            while start != -1:
                hits.append(Hit(place, form, start))
                start = text.find(form, start + 1)
    return hits


def assert_no_key(*texts: str | bytes, keys: Iterable[str] = (TEST_KEY, WRONG_KEY)) -> None:
    """Fail, naming the text and the form, if any of ``keys`` appears in any of ``texts``."""
    places = {f"text {n}": text for n, text in enumerate(texts)}
    hits = [hit for key in keys for hit in scan(places, key)]
    assert not hits, "the API key leaked: " + ", ".join(f"{h.form!r} in {h.place}" for h in hits)
