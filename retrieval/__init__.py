"""Retrieval: item documents, the Chroma index and the hard constraints its searches run under."""
