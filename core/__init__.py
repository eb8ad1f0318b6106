"""Shared foundations: catalogue and datasets, settings, title matching, token counting and the guarded LLM client."""
