"""Maps the design card's top-level folders into the ``pydocker`` import namespace.

pyproject.toml cannot express "every package below api/ as pydocker.api.*" without
listing each one, so the mapping is computed here; everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup

TOP_LEVEL = ("api", "engine", "images", "network", "volumes", "cli")

packages = []
package_dir = {}
for top in TOP_LEVEL:
    package_dir[f"pydocker.{top}"] = top
    packages.append(f"pydocker.{top}")
    packages += [f"pydocker.{top}.{sub}" for sub in find_packages(top)]

setup(packages=packages, package_dir=package_dir, package_data={"pydocker.engine": ["runtime/*.json"]})
