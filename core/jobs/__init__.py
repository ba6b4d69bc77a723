"""The job: its model and types, the state machine, the hot item and its data, the store, the list, and the service the API calls."""
