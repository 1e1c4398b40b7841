"""Persistence: SQLite (WAL) for posts, cursors, decisions and state, with an in-memory fallback."""
