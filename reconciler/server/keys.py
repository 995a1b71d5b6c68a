"""API keys and scopes: generating a key, hashing it for storage, and what each scope may do.

Keys are 256-bit random tokens (``rk_`` + URL-safe base64). Only their SHA-256 is stored (a
high-entropy token needs no slow hash), plus an 8-character prefix so people can tell keys apart.

Scopes: ``read`` sees everything; ``agent`` also claims and reports jobs; ``approve`` also
approves releases; ``admin`` may do everything (cancel, redeploy as well).
"""

from __future__ import annotations

import hashlib
import re
import secrets

SCOPES = ("read", "agent", "approve", "admin")
# scope -> the scopes whose keys may use it
_GRANTED_BY = {
    "read": frozenset(SCOPES),
    "agent": frozenset({"agent", "admin"}),
    "approve": frozenset({"approve", "admin"}),
    "admin": frozenset({"admin"}),
}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
PREFIX = "rk_"


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def display_prefix(key: str) -> str:
    return key[:8]


def allows(held: str, needed: str) -> bool:
    """Whether a key with scope ``held`` may call an endpoint that needs ``needed``."""
    return held in _GRANTED_BY[needed]


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"key name {name!r} must be 1-128 letters, digits, '.', '_', '@' or '-', "
                         "starting with a letter or digit")
    return name


def actor_kind(name: str) -> str:
    """Approvals record the key's owner; names ending in -bot/[bot] are bots, as for the CLI actor."""
    return "bot" if name.lower().endswith(("[bot]", "-bot", "_bot")) else "user"
