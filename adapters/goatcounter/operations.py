"""The shim's GraphQL operation documents, kept as `.graphql` files beside this module and loaded by name, with the
shared fragments they spread (`operations/fragments.graphql`) appended."""

from __future__ import annotations

from pathlib import Path

from adapters.operation_files import fragment_appender, operation_loader

OPERATIONS_DIR = Path(__file__).parent / "operations"

operation = fragment_appender(operation_loader(OPERATIONS_DIR))
