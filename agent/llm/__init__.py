"""The LLM path of the agent's tasks: prompts with delimited data, and the checked, falling-back provider."""
