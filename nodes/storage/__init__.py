"""Node-RED's "storage" palette: file write and read."""
