"""Evaluations of the chat agent: scripted dialogue cases, real dialogues and simulated users."""
