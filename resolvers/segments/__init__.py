"""The segments domain of the graph."""
