"""Planning: the pure core. Values in, values out, the clock passed in.

Computes release targets, resolves variables, evaluates policies, builds releases and plans tasks.
Never reads files, the environment, the clock, the network or recorded state directly; never
imports ``git``, ``sqlite3``, ``psycopg``, ``subprocess`` or the executors.
"""
