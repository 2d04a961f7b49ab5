"""The exports domain of the graph."""
