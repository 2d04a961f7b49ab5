"""The KISSmetrics shim's GraphQL operation documents (`operations/*.graphql`), loaded by name; documents that
read Core API objects get the shared fragments appended."""

from __future__ import annotations

from pathlib import Path

from adapters.operation_files import fragment_appender, operation_loader

OPERATIONS_DIR = Path(__file__).parent / "operations"
operation = operation_loader(OPERATIONS_DIR)


# the documents that read Core API objects, with the object fragments they spread
with_fragments = fragment_appender(operation)
