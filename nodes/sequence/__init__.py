"""Node-RED's "sequence" palette: split, join, sort, batch."""
