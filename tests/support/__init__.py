"""Shared test support: the in-memory store, the in-memory protocol driver and hostile-relay hooks."""
