"""The ``batchlab`` command: BatchLab's REST API from a terminal (issue 16)."""
