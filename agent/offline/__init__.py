"""The offline provider: understanding, slot filling, rerank, explanations and replies without a language model."""
