"""Recording sessions and events through the graph: the mutations every write path uses."""
