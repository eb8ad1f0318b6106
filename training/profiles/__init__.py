"""User profiles written from timestamped histories (LLM-TUP's short- and long-term texts), their on-disk
store and the cached sentence embeddings of profile and item texts."""
