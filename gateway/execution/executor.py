"""Running GraphQL operations on the graph: parse and validate (cached), execute, mask errors.

Both the `/graphql` endpoint and the REST shims run their operations here, so every request gets the same
limits, the same error masking and the same caches. Request errors (unparseable, invalid, bad variables) are
told apart from execution errors, because GraphQL over HTTP answers them with different status codes.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    StringValueNode,
    Visitor,
    execute,
    get_operation_ast,
    parse,
    specified_rules,
    validate,
    visit,
)

from gateway.db.outage import UNAVAILABLE_MESSAGE, is_outage
from gateway.execution.graphql_core import is_awaitable
from gateway.execution.limits import validation_rules
from gateway.execution.variables import VariableFastExecutor
from gateway.input_values import BadInput, clean_strings, text
from gateway.off_loop import OffLoop
from resolvers.context import Context, NotAuthenticated, NotPermitted
from resolvers.errors import UserError
from resolvers.node import InvalidId
from resolvers.pagination import BadPageRequest

log = logging.getLogger(__name__)

# exceptions whose message is written for the client
_SAFE: dict[type[Exception], str] = {
    NotAuthenticated: "UNAUTHENTICATED",
    NotPermitted: "FORBIDDEN",
    BadPageRequest: "BAD_USER_INPUT",
    InvalidId: "BAD_USER_INPUT",
    BadInput: "BAD_USER_INPUT",
}


class RequestError(Exception):
    """The operation cannot run at all: a parse, validation or variable error (HTTP 400)."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        super().__init__(errors[0].message if errors else "Bad request")
        self.errors = errors


@dataclass
class Operation:
    """A parsed and validated document, ready to execute."""

    document: DocumentNode
    query: str

    @property
    def fragments(self) -> dict[str, FragmentDefinitionNode]:
        return {d.name.value: d for d in self.document.definitions if isinstance(d, FragmentDefinitionNode)}

    def definition(self, operation_name: str | None) -> OperationDefinitionNode | None:
        return get_operation_ast(self.document, operation_name)

    def kind(self, operation_name: str | None) -> OperationType | None:
        definition = self.definition(operation_name)
        return definition.operation if definition else None


class _CleanStrings(Visitor):
    def enter_string_value(self, node: StringValueNode, *_: Any) -> StringValueNode | None:
        cleaned = text(node.value)
        if cleaned == node.value:
            return None  # unchanged
        return StringValueNode(value=cleaned, block=node.block, loc=node.loc)


def clean_literals(document: DocumentNode) -> DocumentNode:
    """The document with its string literals as `gateway.input_values.text`: U+0000 can be written in one, raw
    or escaped (lone surrogates cannot)."""
    source = document.loc.source.body if document.loc is not None else ""
    if "\x00" in source or "\\u" in source:
        edited = visit(document, _CleanStrings())
        assert isinstance(edited, DocumentNode)
        return edited
    return document


# documents longer than this (in characters) are checked off the event loop (`Executor.prepare_async`): at most
# a few milliseconds of parsing and validating stay on it
LARGE_DOCUMENT = 4096


class DocumentsBusy(Exception):
    """Too many large documents wait to be checked already: the client should retry in a moment."""


# one thread: a flood of large documents costs at most one core, and the loop keeps the other
_LARGE_DOCUMENTS = OffLoop(
    "graphql-documents",
    threads=1,
    max_waiting=8,
    busy=lambda: DocumentsBusy("Too many large documents are being checked at once; retry in a moment"),
)


@dataclass
class Executor:
    """Parses, validates and executes operations on one schema."""

    schema: GraphQLSchema
    max_tokens: int = 15000
    max_depth: int = 15
    max_aliases: int = 30
    introspection: bool = True
    cache_size: int = 1000
    _cache: OrderedDict[str, Operation] = field(default_factory=OrderedDict)
    _rules: list[type[ASTValidationRule]] = field(default_factory=list)
    _incremental: bool = False

    def __post_init__(self) -> None:
        self._rules = list(specified_rules) + validation_rules(
            max_depth=self.max_depth, max_aliases=self.max_aliases, introspection=self.introspection
        )
        # graphql-core's `execute` refuses to run on a schema with @defer or @stream (which may give several
        # results); without them `run` builds and runs the executor itself
        self._incremental = bool(self.schema.get_directive("defer") or self.schema.get_directive("stream"))

    def parse(self, query: str) -> DocumentNode:
        """`query` parsed, not validated (the cached document when it was prepared before): for the checks that
        come before validation. Raises RequestError."""
        found = self._cache.get(query)
        return found.document if found is not None else self._parsed(query)

    def _parsed(self, query: str) -> DocumentNode:
        try:
            return clean_literals(parse(query, max_tokens=self.max_tokens))
        except GraphQLError as error:
            raise RequestError([error]) from None

    def prepare(self, query: str) -> Operation:
        """A validated operation for `query` (from the cache when it was seen before), checked on the event loop:
        for documents of the gateway's own and small ones; `prepare_async` checks the others off the loop."""
        found = self._cached(query)
        if found is not None:
            return found
        return self._remember(query, self._checked(query))

    async def prepare_async(self, query: str) -> Operation:
        """`prepare` for a document a client sent: one over `LARGE_DOCUMENT` characters is parsed and validated on
        the documents' thread (`gateway.off_loop`), since that can take a second of CPU (graphql-core's check of
        overlapping fields is quadratic in the fields of a selection set sharing a name: 55 kB of repeated
        `account { id }` take 1.3 s); raises `DocumentsBusy` when too many large documents wait for it."""
        found = self._cached(query)
        if found is not None:
            return found
        if len(query) <= LARGE_DOCUMENT:
            return self._remember(query, self._checked(query))
        return self._remember(query, await _LARGE_DOCUMENTS.run(self._checked, query))

    def _cached(self, query: str) -> Operation | None:
        found = self._cache.get(query)
        if found is not None:
            self._cache.move_to_end(query)
        return found

    def _checked(self, query: str) -> DocumentNode:
        """`query` parsed and validated, or RequestError; touches no state (it may run on another thread)."""
        document = self._parsed(query)
        errors = validate(self.schema, document, self._rules)
        if errors:
            raise RequestError(list(errors))
        return document

    def _remember(self, query: str, document: DocumentNode) -> Operation:
        operation = Operation(document=document, query=query)
        self._cache[query] = operation
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return operation

    async def run(
        self,
        operation: Operation,
        context: Context,
        variables: dict[str, Any] | None = None,
        operation_name: str | None = None,
    ) -> ExecutionResult:
        """Execute; raises RequestError when the variables cannot be coerced.

        Every string of the variables is made text PostgreSQL can store (`gateway.input_values.text`) first, as
        the document's literals were when it was parsed: String and ID are graphql-core's own scalars, which
        cannot be redefined, so their values are normalised here, where every operation passes.
        """
        if variables:
            variables = clean_strings(variables)
        found: Any
        executor: Any = None
        if self._incremental:
            found = execute(
                self.schema,
                operation.document,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
                executor_class=VariableFastExecutor,
            )
        else:
            # what `execute` does, without its wrappers: build the executor, execute the operation
            executor = VariableFastExecutor.build(
                self.schema,
                operation.document,
                context_value=context,
                raw_variable_values=variables,
                operation_name=operation_name,
            )
            if isinstance(executor, list):
                found = ExecutionResult(None, executor)
            else:
                found = executor.execute_operation()
        result = await found if is_awaitable(found) else found
        if isinstance(executor, VariableFastExecutor) and not executor.background_futures:
            # graphql-core's executor refers to itself through `async_helpers` (bound methods of its own), which
            # left every operation's executor, context and variables to the cyclic garbage collector (during
            # ingestion, most of what its full collections walked); with no work of the operation still running,
            # nothing uses them any more
            executor.async_helpers = None  # type: ignore[assignment]
        assert isinstance(result, ExecutionResult)
        if result.data is None and result.errors and all(not e.path for e in result.errors):
            raise RequestError(list(result.errors))
        if result.errors:
            result.errors = [mask_error(error, context.request_id) for error in result.errors]
        return result


def mask_error(error: GraphQLError, request_id: str) -> GraphQLError:
    """The error as the client may see it: internal failures become an opaque message with an id."""
    original = error.original_error
    if original is None:
        return error
    if isinstance(original, UserError):
        return _with_code(error, original.code)
    for kind, code in _SAFE.items():
        if isinstance(original, kind):
            return _with_code(error, code)
    if isinstance(original, GraphQLError):
        return error
    if is_outage(original):
        log.warning("database unavailable in request %s at %s: %s", request_id, error.path, original)
        return GraphQLError(
            UNAVAILABLE_MESSAGE,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "SERVICE_UNAVAILABLE"},
        )
    error_id = uuid.uuid4().hex[:16]
    log.error(
        "internal error %s in request %s at %s",
        error_id,
        request_id,
        error.path,
        exc_info=(type(original), original, original.__traceback__),
    )
    return GraphQLError(
        "Internal server error",
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
    )


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    return GraphQLError(
        str(error.original_error),
        nodes=error.nodes,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )


def needs_permission(errors: list[GraphQLError]) -> int | None:
    """401, 403 or 429 when every error of a result is a missing right (or a refused attempt), 503 when the
    database was unavailable, else None."""
    codes = {(e.extensions or {}).get("code") for e in errors}
    if codes == {"UNAUTHENTICATED"}:
        return 401
    if codes == {"FORBIDDEN"}:
        return 403
    if codes == {"RATE_LIMITED"}:
        return 429
    if "SERVICE_UNAVAILABLE" in codes:
        return 503
    return None


ANONYMOUS_FIELDS = frozenset({"login", "__typename"})


def anonymous_allowed(document: DocumentNode, operation_name: str | None) -> bool:
    """Whether the operation of a parsed (not yet validated) document may run without a token: logging in is
    how a person gets one. Its root selection must be made of those fields alone (no fragments)."""
    definition = get_operation_ast(document, operation_name)
    if definition is None:
        return False
    selections = definition.selection_set.selections
    return bool(selections) and all(
        isinstance(selection, FieldNode) and selection.name.value in ANONYMOUS_FIELDS
        for selection in selections
    )
