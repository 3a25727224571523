"""Node-RED's "function" palette: function, switch, change, range, template, delay, trigger, filter."""
