"""``reconciler serve``: the seed's HTTP API for job agents and people, and a web dashboard, on top of
the same state store the CLI uses; plus the reference pull agent that talks to it.

A layer above the engine and below the CLI: routes parse requests, check the API key's scope, and
call ``reconciler.engine`` (approve, cancel, redeploy, report) or the store's API queries (claims,
keys, releases); they never plan or execute themselves. The server is optional: a Git + CI user
never needs it.

Modules: ``keys`` (scopes, key hashing), ``context`` (desired state reloaded on change, the store,
a short-lived snapshot of plan and status), ``shapes`` (the seed's JSON), ``models`` (OpenAPI
models), ``errors`` (JSON errors, body cap), ``auth``, ``claims`` (queue and leases), the route
modules, ``webhooks`` (GitHub), ``app`` (assembly), ``agent`` (the pull-agent loop) and
``dashboard/`` (server-rendered HTML and the static report).
"""
