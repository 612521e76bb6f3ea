"""Chaos scenarios: the service under load and with Redis, PostgreSQL or a worker taken away mid-stream."""
