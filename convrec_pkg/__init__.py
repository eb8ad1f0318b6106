"""convrec: a conversational movie recommender.

The code lives in the top-level folders (core/, retrieval/, training/, agent/, ui/, evals/, cli/), installed
under this one namespace so that `convrec.core` never shadows another distribution's `core`.
"""

__version__ = "0.1.0"
