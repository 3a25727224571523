"""Outwire's runtime: everything that is not one node type."""

__version__ = "0.1.0"
