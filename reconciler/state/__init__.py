"""Recorded state: releases, tasks and their attempts, per-target current state, versions first
seen, approvals, holds, traces and the workspace lease, behind one backend-neutral store.

SQLite (embedded default) and PostgreSQL share one SQLAlchemy Core implementation and one set of
versioned migrations, applied automatically. Every backend passes the same conformance suite.
"""
