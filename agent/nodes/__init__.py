"""The nodes of the conversation graph, one module per step of a turn."""
