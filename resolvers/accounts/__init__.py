"""The accounts domain of the graph."""
