"""The HTTP front door: `/graphql` over HTTP and websockets, GraphiQL, CORS, health, downloads, request ids.

Everything that speaks HTTP to a client and is not a vendor dialect (those are in `adapters/`) lives here;
the work behind it (execution, access, the database) is in the sibling packages.
"""
