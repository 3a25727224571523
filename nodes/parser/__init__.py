"""Node-RED's "parser" palette: csv, json, xml, yaml, html."""
