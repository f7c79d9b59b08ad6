"""Which packages the distribution installs (the rest of the metadata is in setup.cfg).

The repository keeps the catalogue at its top level as ``scenarios/``, but an
installed distribution must not claim that generic name (it would shadow any user
project's own ``scenarios`` package), so it installs as ``harness.catalogue``.
setup.cfg cannot add a remapped package to what ``find:`` discovers; this can.
"""

from setuptools import find_packages, setup

CATALOGUE = "harness.catalogue"

setup(
    packages=[*find_packages(include=["harness", "harness.*"]), CATALOGUE],
    package_dir={CATALOGUE: "scenarios"},
)
