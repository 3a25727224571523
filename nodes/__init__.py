"""Node types, one module each, grouped as in Node-RED's palette.

Importing this package registers every built-in type with
:func:`runtime.registry.register`.
"""

from nodes import common  # noqa: F401  (imported to register its node types)
