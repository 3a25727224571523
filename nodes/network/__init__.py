"""Node-RED's "network" palette: http in, http response, http request."""
