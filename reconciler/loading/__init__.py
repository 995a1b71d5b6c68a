"""Loading: read desired state from a directory or a Git revision, parse YAML, validate it into a
Catalog and report every problem as a diagnostic with file:line:column.

Sits above planning (it compiles selectors to check them) and below the engine. Never writes
recorded state; the only thing it writes is the parse cache, outside the repository.
"""
