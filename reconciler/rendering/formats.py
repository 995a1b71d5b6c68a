r"""Small text formats: env-file quoting and lines.

The quoting targets the two readers our env files meet: docker compose (``env_file:`` and ``.env``,
parsed by compose-go's dotenv) and systemd (``EnvironmentFile=``). Both read ``KEY=value`` lines and
agree on three forms, which ``env_quote`` picks in this order:

1. bare, when every character is plain (letters, digits and ``_./:@%+,=-``); empty is ``KEY=``;
2. single quotes, when the value has no ``'`` and does not end in ``\``: both readers take the
   text literally (no ``$`` interpolation in compose, no escapes), newlines included;
3. double quotes otherwise, escaping ``\``, ``"`` and ``$`` as ``\\``, ``\"`` and ``\$``; newlines
   stay literal inside the quotes (``\n`` would be a newline to compose but two characters to
   systemd). compose-go mangles a double-quoted value that ends in ``"`` or ``\``; such values
   (which also contain ``'``) are best passed another way.

Anything with spaces, ``#`` (a comment in compose after a space), quotes or ``$`` is quoted.
``docker run --env-file`` is not a target: it takes every value literally, quotes included.
This module is pure: text in, text out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from reconciler.errors import TemplateError

_PLAIN = re.compile(r"^[A-Za-z0-9_./:@%+,=-]*$")
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def env_text(value: Any) -> str:
    """The text form of a value: booleans as true/false, lists and maps as sorted JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    return str(value)


def env_quote(value: Any) -> str:
    """A value safe on the right of ``KEY=`` in a .env file (docker compose and systemd read it)."""
    text = env_text(value)
    if "\0" in text:
        raise TemplateError("an env-file value cannot contain a NUL character")
    if _PLAIN.match(text):
        return text
    if "'" not in text and not text.endswith("\\"):
        return f"'{text}'"
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def env_line(key: str, value: Any) -> str:
    """One ``KEY=value`` line (without the newline); the key must be a shell-style name."""
    if not ENV_KEY.match(key):
        raise TemplateError(f"env-file key {key!r} is not a valid variable name (letters, digits, _; "
                            "not starting with a digit)")
    return f"{key}={env_quote(value)}"


def env_lines(items: Iterable[tuple[str, Any]]) -> str:
    """A whole env file for ``items`` in their given order, one line each, ending in a newline."""
    lines = [env_line(key, value) for key, value in items]
    return "".join(line + "\n" for line in lines)
