"""The conversational recommender agent: its graph, state, preferences, provider interface and chat service."""
