"""``reconciler schema``: write the JSON Schemas of every document type."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--out", "out", default="schemas", metavar="DIR", show_default=True, help="Folder to write into.")
def schema(out: str) -> int:
    """Write JSON Schemas for every document type, the workspace file and the plan."""
    from reconciler.models.schemas import all_schemas, dumps

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in sorted(all_schemas().items()):
        (folder / name).write_text(dumps(body))
    click.echo(f"wrote {len(all_schemas())} schemas to {folder}")
    return 0
