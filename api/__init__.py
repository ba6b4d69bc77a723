"""BatchLab's HTTP API: ``uvicorn api.main:app``."""
