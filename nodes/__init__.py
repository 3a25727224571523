"""Node types, one module each, grouped in sub-packages as in Node-RED's palette.

Importing this package imports every module below it, and each module
registers its node types with :func:`runtime.registry.register`. A new node
module therefore needs no registration line anywhere else.
"""

from __future__ import annotations

import importlib
import pkgutil


def _import_all() -> None:
    for module in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
        importlib.import_module(module.name)


_import_all()
