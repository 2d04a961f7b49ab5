"""The definitions domain of the graph."""
