"""The shim's GraphQL operation documents, kept as `.graphql` files beside this module and loaded by name."""

from __future__ import annotations

from pathlib import Path

from adapters.operation_files import operation_loader

OPERATIONS_DIR = Path(__file__).parent / "operations"
operation = operation_loader(OPERATIONS_DIR)
