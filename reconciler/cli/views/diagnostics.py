"""Diagnostics as text lines, JSON, or GitHub Actions annotations."""

from __future__ import annotations

import click

from reconciler.cli.views import jsonview
from reconciler.diagnostics import Diagnostic


def print_text(diags: list[Diagnostic]) -> None:
    for diag in diags:
        click.echo(diag.format(), err=True)
    errors = sum(1 for d in diags if d.severity == "error")
    if errors:
        click.echo(f"{errors} error{'s' if errors != 1 else ''} found; nothing was changed.", err=True)


def to_json(diags: list[Diagnostic]) -> str:
    return jsonview.dumps([d.to_json() for d in diags])


def _escape(text: str, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def github(diags: list[Diagnostic], root_prefix: str = "") -> str:
    """``::error file=…,line=…,col=…,title=…::message`` lines for GitHub Actions."""
    lines = []
    for d in diags:
        path = f"{root_prefix}{d.source.path}"
        props = f"file={_escape(path, True)},line={d.source.line or 1},col={d.source.column or 1}," \
                f"title={_escape(d.summary, True)}"
        lines.append(f"::{d.severity.value} {props}::{_escape(d.detail)}")
    return "\n".join(lines)
