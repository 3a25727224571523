"""Node-RED's "common" palette: inject, debug, complete, catch, status, link, comment, junction."""
