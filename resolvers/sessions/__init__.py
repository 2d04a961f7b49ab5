"""The sessions domain of the graph."""
