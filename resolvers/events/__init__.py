"""The events domain of the graph."""
