"""The users domain of the graph."""
