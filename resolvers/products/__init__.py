"""The products domain of the graph."""
