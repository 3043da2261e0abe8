"""The one place this package imports the ``tf`` framework (PyPI ``tf``, plugin protocol 6).

``tf`` ships no ``py.typed`` marker, so to mypy every name below is ``Any``; importing it here
alone keeps the ``type: ignore`` comments in one file. Classes that subclass a ``tf`` protocol
carry an ``ignore[misc]`` of their own for the same reason.
"""

from __future__ import annotations

from tf.gen.tfplugin_pb2 import GetProviderSchema  # type: ignore[import-untyped]
from tf.iface import (  # type: ignore[import-untyped]
    Config,
    DataSource,
    Provider,
    ReadDataContext,
    Resource,
)
from tf.provider import ProviderServicer  # type: ignore[import-untyped]
from tf.runner import run_provider  # type: ignore[import-untyped]
from tf.schema import Attribute, Schema  # type: ignore[import-untyped]
from tf.types import Bool, List, Map, Number, String, TfType, Unknown  # type: ignore[import-untyped]
from tf.utils import Diagnostics  # type: ignore[import-untyped]

# The schema request terraform sends first (provider.terraform.schema_json asks it in process).
GetProviderSchemaRequest = GetProviderSchema.Request

__all__ = [
    "Attribute",
    "Bool",
    "Config",
    "DataSource",
    "Diagnostics",
    "GetProviderSchemaRequest",
    "List",
    "Map",
    "Number",
    "Provider",
    "ProviderServicer",
    "ReadDataContext",
    "Resource",
    "Schema",
    "String",
    "TfType",
    "Unknown",
    "run_provider",
]
