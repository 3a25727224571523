"""Node-RED's "common" palette: inject, debug, complete, catch, status, link, comment, junction."""

from nodes.common import catch, comment, complete, debug, inject, junction, link, status  # noqa: F401
