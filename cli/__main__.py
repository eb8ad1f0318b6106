"""`python -m convrec.cli` runs the command line."""

from .main import run

run()
