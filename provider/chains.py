"""A chain named by id or by name, and how a name becomes the id every read uses.

What a caller may rely on: :meth:`ChainRef.resolve` sends nothing for an id; for a name it
makes one ``GET /v1/chains`` and returns the id of the one chain with exactly that name. A
name that matches no chain, or several, is a :class:`~provider.errors.NotFoundError` whose
message names the chain names seen, so a typo is easy to spot.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .client import BasetenClient
from .deadline import Deadline
from .errors import NotFoundError, ResponseFormatError
from .models import Chain, ChainList
from .validation import Id, api_path

MAX_NAMES_SHOWN = 20


def check_answer(
    asked: str, answered: str | None, expected: str | None, *, field: str, kind: str = "chain"
) -> None:
    """The answer must be about what was asked for (``answered`` is ``None``: the API left the
    field out); anything else is a :class:`ResponseFormatError` naming ``field``, never a result."""
    if answered is not None and answered != expected:
        shown = answered if len(answered) <= 60 else answered[:57] + "..."
        raise ResponseFormatError(
            f"asked for {asked}, the API answered for {kind} {shown!r}", field=field
        )


@dataclass(frozen=True)
class ChainRef:
    """Exactly one of ``chain_id`` (checked) and ``chain_name``."""

    chain_id: Id | None
    chain_name: str | None

    def describe(self) -> str:
        if self.chain_id is not None:
            return f"chain {self.chain_id}"
        return f"the chain named {self.chain_name!r}"

    def resolve(
        self,
        client: BasetenClient,
        deadline: Deadline | None = None,
        *,
        on_warning: Callable[[str], None] | None = None,
    ) -> Id:
        """The chain's id: the one given, or that of the one chain called ``chain_name``."""
        if self.chain_id is not None:
            return self.chain_id
        return Id(self.find(client, deadline, on_warning=on_warning).id, "chain_id")

    def find(
        self,
        client: BasetenClient,
        deadline: Deadline | None = None,
        *,
        on_warning: Callable[[str], None] | None = None,
    ) -> Chain:
        """The one chain called ``chain_name``, as ``GET /v1/chains`` lists it."""
        found = client.get(
            api_path("chains"),
            ChainList,
            what="the chain list",
            deadline=deadline,
            on_warning=on_warning,
        ).chains
        matches = [chain for chain in found if chain.name == self.chain_name]
        if len(matches) == 1:
            return matches[0]
        names = sorted({chain.name for chain in found})
        seen = ", ".join(repr(n) for n in names[:MAX_NAMES_SHOWN]) or "none"
        if len(names) > MAX_NAMES_SHOWN:
            seen += f" and {len(names) - MAX_NAMES_SHOWN} more"
        if matches:
            ids = ", ".join(chain.id for chain in matches)
            reason = (
                f"{len(matches)} chains are named {self.chain_name!r} (ids {ids}): give chain_id"
            )
        else:
            reason = f"no chain is named {self.chain_name!r}; chain names seen: {seen}"
        raise NotFoundError(
            reason, what=f"the chain named {self.chain_name!r}", status=None, field="chain_name"
        )
