"""Running GraphQL operations: parse and validate with limits, estimate cost, coerce variables, execute fast.

The `/graphql` endpoint, the websocket and every REST shim run their documents through this package, so all of
them get the same limits, caches, error masking and fast paths. graphql-core's executor internals are imported
in one module only (`graphql_core`), which names the version they were written against.
"""
