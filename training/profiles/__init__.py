"""User profiles, their on-disk store and the cached sentence embeddings of profile and item texts.

Profiles are written from timestamped histories (LLM-TUP's short- and long-term texts).
"""
