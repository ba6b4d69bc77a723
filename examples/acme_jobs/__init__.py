"""ACME's own BatchLab job types: an example of a team's package (issue 16).

BatchLab imports this package at start-up when it is named by the setting
(``BATCHLAB_JOB_MODULES=acme_jobs``, with ``examples/`` on ``PYTHONPATH``) or by an
entry point (``pip install ./examples``: see examples/pyproject.toml). Importing it
registers its types, so the package's ``__init__`` imports every module that has some.
"""

from acme_jobs import invoices, primes

__all__ = ["invoices", "primes"]
