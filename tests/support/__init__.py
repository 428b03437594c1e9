"""Helpers shared by the protocol tests (FROST, GG20): the in-memory driver and hostile-relay hooks."""
