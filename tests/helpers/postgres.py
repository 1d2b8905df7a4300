"""The tests' PostgreSQL server: the bench's throw-away cluster (`bench/pgserver.py`)."""

from bench.pgserver import create_database, postgres_server

__all__ = ["create_database", "postgres_server"]
