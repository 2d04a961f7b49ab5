"""Access to the graph: principals and permissions, API tokens, passwords, product keys, the hourly cost budget."""
