"""The bits of Markdown every page of the reference is made of."""

from __future__ import annotations

import json
import re


def front_matter(
    *, blocks: tuple[str, ...] = (), quoted: tuple[str, ...] = (), **fields: str
) -> list[str]:
    """A page's YAML front matter (what the registries' static sites read), then a blank line.
    A value is written bare when YAML reads it back unchanged, else double-quoted; the keys in
    ``blocks`` always as a literal block (``|-``) and those in ``quoted`` always quoted, as
    tfplugindocs writes ``description`` and ``page_title``."""
    lines = ["---"]
    for key, value in fields.items():
        if key in blocks:
            lines += [f"{key}: |-", *(f"  {line}".rstrip() for line in value.splitlines() or [""])]
        elif (
            key not in quoted
            and re.fullmatch(r"[A-Za-z][\w .,()&/-]*[\w.)]", value)
            and ": " not in value
        ):
            lines.append(f"{key}: {value}")
        else:
            lines.append(f"{key}: {json.dumps(value)}")
    return [*lines, "---", ""]


def code_block(language: str, code: str) -> list[str]:
    """A fenced code block."""
    return [f"```{language}", *code.splitlines(), "```"]


def first_sentence(text: str) -> str:
    """The first sentence of a description (up to the first ". " or the end)."""
    text = " ".join(text.split())
    head, dot, _ = text.partition(". ")
    return head + "." if dot else text


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
