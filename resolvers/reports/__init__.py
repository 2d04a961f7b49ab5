"""The reports domain of the graph."""
