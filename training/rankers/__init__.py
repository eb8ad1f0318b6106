"""Rankers behind one interface; importing this package registers the built-in ones.

Add a ranker by writing `<model>.py` with a `@register("<name>")` class and importing it below.
"""

from . import bpr, duip, gru4rec, itemknn, lightgcn, popularity, pte, sasrec, tup  # noqa: F401  (imported for their @register side effect)
from .base import REGISTRY, Ranker, RankerParams, fit_or_load, get_ranker, register

__all__ = ["REGISTRY", "Ranker", "RankerParams", "fit_or_load", "get_ranker", "register"]
