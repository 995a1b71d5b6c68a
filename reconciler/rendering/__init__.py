"""Rendering: jinja2 in a sandbox with StrictUndefined. Strings and templates in, text out.

Used for job-config values at plan time and for artifacts (compose locks, manifests, env files).
Never touches the file system itself; callers pass template sources in.
"""
