"""BatchLab's shared core, imported by both ``api`` and ``tasks`` (nothing here imports them).

Split by concept: ``jobs`` (the job model, state machine, store and use cases),
``batches`` (issue 14), ``storage`` (item sizes, S3, uploads), ``cost`` (the request meter
and prices), ``operations`` (counts, DLQ, health, metrics, retry/bulk/charts), ``plugins``
(your own job types). At the top: settings, AWS clients, errors, queues, the bootstrap and
the local-stack runners.
"""
