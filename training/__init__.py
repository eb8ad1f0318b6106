"""Rankers and models learned from data (intent, stance, conversation prior), and the benchmark that measures them."""
