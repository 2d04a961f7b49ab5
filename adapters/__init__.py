"""REST dialects of legacy analytics vendors, each translated into GraphQL operations on the one graph."""
