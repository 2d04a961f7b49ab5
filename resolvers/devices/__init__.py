"""The devices domain of the graph."""
