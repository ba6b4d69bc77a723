"""BatchLab's shared core: settings, job model, state machine, DynamoDB store.

Both ``api`` and ``tasks`` import from here; nothing in here imports them.
"""
