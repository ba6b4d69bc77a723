"""The request meter and what it costs: capacity units, request classes, prices."""
