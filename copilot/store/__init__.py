"""The copilot's store: one database (SQLite by default, PostgreSQL by URL) behind small typed stores."""

from copilot.store.database import Database, StoreError, database_url

__all__ = ["Database", "StoreError", "database_url"]
