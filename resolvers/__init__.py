"""The analytics graph: one sub-package per domain with its types, root fields, mutations, loaders and SQL."""
