"""The one way this provider's text reaches terraform: error and warning diagnostics.

Terraform prints a diagnostic's summary and detail to the user's terminal as they are, and the
protocol carries them as protobuf strings, which must be valid UTF-8. So every diagnostic this
package raises goes through :func:`error` or :func:`warning`, which pass the summary and the
detail through :func:`provider.text.printable`: an ESC sequence from a 401 message or a
deployment id is shown escaped, never acted on, and a lone surrogate from the server is shown
as ``\\ud800`` instead of making the whole answer unsendable.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..text import printable
from ._tf import Diagnostics


def error(
    diags: Diagnostics, summary: str, detail: str = "", *, path: Sequence[str] | None = None
) -> None:
    """Add an error diagnostic (underlining ``path`` in the configuration, if given)."""
    diags.add_error(printable(summary), printable(detail), path=list(path) if path else None)


def warning(diags: Diagnostics, summary: str, detail: str = "") -> None:
    """Add a warning diagnostic."""
    diags.add_warning(printable(summary), printable(detail))
