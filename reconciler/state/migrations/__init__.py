"""Alembic migrations of the state schema (shared by SQLite and PostgreSQL)."""
