"""Shared test support: in-memory stand-ins and protocol drivers used by several test packages and benchmarks."""
