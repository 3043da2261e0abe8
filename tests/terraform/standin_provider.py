"""A stand-in for Baseten's own Terraform provider (``basetenlabs/baseten``), for offline tests.

The real provider comes from registry.terraform.io, which tests may not reach. What the tests
need from it is only that it is a *different* provider of the same type name, ``baseten``: it
serves one data source, ``baseten_standin``, and none of ours, so a data source of ours that
were routed to it would fail with "does not support data source". Run by a mirror wrapper.
"""

from __future__ import annotations

import sys
from typing import Any

from tf.iface import Config, DataSource, Provider, ReadDataContext
from tf.runner import run_provider
from tf.schema import Attribute, Schema
from tf.types import String
from tf.utils import Diagnostics

ADDRESS = "registry.terraform.io/basetenlabs/baseten"
VERSION = "0.1.0"


class StandinDataSource(DataSource):
    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    @classmethod
    def get_name(cls) -> str:
        return "standin"

    @classmethod
    def get_schema(cls) -> Schema:
        return Schema(attributes=[Attribute("served_by", String(), computed=True)])

    def read(self, ctx: ReadDataContext, config: Config) -> dict[str, Any]:
        return {"served_by": ADDRESS}


class StandinProvider(Provider):
    def full_name(self) -> str:
        return ADDRESS

    def get_model_prefix(self) -> str:
        return "baseten_"

    def get_provider_schema(self, diags: Diagnostics) -> Schema:
        return Schema(attributes=[])

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        pass

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        pass

    def get_data_sources(self) -> list[type[DataSource]]:
        return [StandinDataSource]

    def get_resources(self) -> list[Any]:
        return []


if __name__ == "__main__":
    run_provider(StandinProvider(), sys.argv)
