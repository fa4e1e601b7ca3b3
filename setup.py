"""The one thing pyproject.toml cannot say: the packages are rnnlab* plus `rnnlab.conf`, the
top-level conf/ folder shipped inside the package (Hydra's config groups)."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["rnnlab*"]), "rnnlab.conf"],
    package_dir={"rnnlab.conf": "conf"},
)
