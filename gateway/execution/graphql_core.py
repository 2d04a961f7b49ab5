"""The parts of graphql-core's executor that are not its public API, in one place.

The fast paths (`fast_path`: leaves read directly, child connections prefetched; `variables`: coercers compiled
per input type) subclass graphql-core's `Executor` and call its field collection, argument and variable
coercion helpers. Those are internals: they were written against **graphql-core 3.3.2**, where `collect_fields`
returns `FieldDetails` groups and variables come as `VariableValues` with their sources (3.2 has neither, and
3.3.0 and 3.3.1 lack `MAX_NESTING_DEPTH`). `pyproject.toml` therefore pins `graphql-core>=3.3.2,<3.4`; a new
minor version is taken by updating this module and running the fast-path tests (`tests/gateway/test_fast_execution.py`,
`tests/gateway/test_variables.py`), which compare the fast paths with graphql-core's own execution.
"""

from __future__ import annotations

from graphql.execution.collect_fields import (
    FieldDetails,
    FieldDetailsList,
    FragmentDetails,
    GroupedFieldSet,
    collect_subfields,
)
from graphql.execution.executor import Executor, default_field_resolver, default_type_resolver
from graphql.execution.get_variable_signature import GraphQLVariableSignature, get_variable_signature
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_argument_values,
    get_variable_values,
)
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.pyutils import AwaitableOrValue, Path, Undefined, gather_with_cancel, is_awaitable
from graphql.type.scalars import (
    GRAPHQL_MAX_INT,
    GRAPHQL_MIN_INT,
    coerce_boolean,
    coerce_float,
    coerce_id,
    coerce_int,
    coerce_string,
)
from graphql.utilities.coerce_input_value import coerce_default_value, coerce_input_literal

__all__ = [
    "GRAPHQL_MAX_INT",
    "GRAPHQL_MIN_INT",
    "MAX_NESTING_DEPTH",
    "AwaitableOrValue",
    "Executor",
    "FieldDetails",
    "FieldDetailsList",
    "FragmentDetails",
    "GraphQLVariableSignature",
    "GroupedFieldSet",
    "Path",
    "Undefined",
    "VariableValueSource",
    "VariableValues",
    "coerce_boolean",
    "coerce_default_value",
    "coerce_float",
    "coerce_id",
    "coerce_input_literal",
    "coerce_int",
    "coerce_string",
    "collect_subfields",
    "default_field_resolver",
    "default_type_resolver",
    "gather_with_cancel",
    "get_argument_values",
    "get_variable_signature",
    "get_variable_values",
    "is_awaitable",
]
