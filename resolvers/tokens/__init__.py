"""The tokens domain of the graph."""
