"""``python -m provider.terraform``: the same as the ``terraform-provider-baseten`` script."""

from . import main

raise SystemExit(main())
