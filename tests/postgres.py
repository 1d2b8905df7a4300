"""The tests' PostgreSQL server: the bench's throw-away cluster (`copilot/bench/pgserver.py`)."""

from copilot.bench.pgserver import create_database, postgres_server

__all__ = ["create_database", "postgres_server"]
