"""skillmeat-ls: a language server and linter for SkillMeat deployment files."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

__version__ = "0.1.0"


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of this package's own code (every module's bytes): what a remembered result — a
    collection's reading, a file's verdict — is keyed by, so that one computed by other code
    (another release, or a change in development under the same version) is never reused."""
    digest = hashlib.sha256(__version__.encode())
    root = Path(__file__).parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
