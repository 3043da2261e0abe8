"""The package version, declared once: the wheel's metadata (pyproject.toml reads it), the
plugin's ``GetPluginInfo`` and schema, the Terraform mirror entry, the User-Agent and every
console script's ``--version`` derive from it. Semver, as the Pulumi engine requires."""

__version__ = "0.2.0"
