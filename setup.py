"""Map the design's top-level folders into the one `convrec.*` namespace and find every subpackage in them.

pyproject.toml holds the metadata; only the package list lives here, because it is computed: a listed set of
packages went stale once (a wheel without `convrec.agent.llm` and `convrec.training.profiles`), a search cannot.
"""

from setuptools import find_packages, setup

# The folders of the design (ARCHITECTURE.md): each is a subpackage of `convrec`.
TOP_LEVEL = ("core", "retrieval", "training", "agent", "ui", "evals", "cli")

packages = ["convrec"]
package_dir = {"convrec": "convrec_pkg"}
for folder in TOP_LEVEL:
    packages.append(f"convrec.{folder}")
    package_dir[f"convrec.{folder}"] = folder
    packages += [f"convrec.{folder}.{sub}" for sub in find_packages(where=folder)]

setup(packages=packages, package_dir=package_dir)
