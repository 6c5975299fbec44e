"""The index's public model: what a collection, its artifacts and groups, and a problem are.

This module owns the frozen data the rest of the server reads (:class:`CollectionIndex` and what
it holds, :class:`IndexProblem`) and the names of the files and directory the index reads. It
imports nothing else of the package, so the reading, hashing and cache modules can all build on it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from skillmeat_ls.schema import normalize_name

MANIFEST_NAME = "collection.toml"
LOCK_NAME = "collection.lock"
COLLECTIONS_DIR = "collections"


@dataclass(frozen=True)
class CollectionArtifact:
    """An artifact of a collection: what the manifest says and what is on disk."""

    name: str
    type: str  # as written in the manifest ("skill", "command", ...)
    rel_path: str  # the manifest's ``path``, relative to the collection root, "/" separators
    path: Path  # absolute path on disk
    content_hash: str | None  # hash of the copy on disk; None if missing or unreadable
    lock_hash: str | None  # ``[lock.entries."name::type"] content_hash``
    description: str | None  # ``[artifacts.metadata] description``
    groups: tuple[str, ...]  # names of the groups that list it

    @property
    def key(self) -> tuple[str, str]:
        return (self.name, self.type)

    @property
    def artifact_id(self) -> str:
        return f"{self.type}:{self.name}"


@dataclass(frozen=True)
class Group:
    """A ``[[groups]]`` entry of a manifest; ``members`` are ``"type:name"`` ids as written."""

    name: str
    description: str | None
    position: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Collection:
    """One collection directory with a readable manifest."""

    name: str  # the directory name, which deployment files use as ``from_collection``
    path: Path
    artifacts: dict[tuple[str, str], CollectionArtifact]  # by (name, type), manifest order
    groups: tuple[Group, ...]  # by position, then manifest order
    mcp_servers: tuple[str, ...] = ()  # names of the ``[[mcp_servers]]`` entries

    def find(self, name: str, type: str | None = None) -> list[CollectionArtifact]:
        """Every artifact called ``name`` (of ``type``, if given), in manifest order; names
        match as SkillMeat matches them (:func:`~skillmeat_ls.schema.normalize_name`)."""
        if type is not None:
            found = self.artifacts.get((name, type))
            if found is not None:
                return [found]
        wanted = normalize_name(name)
        return [
            artifact
            for artifact in self.artifacts.values()
            if (type is None or artifact.type == type) and normalize_name(artifact.name) == wanted
        ]


@dataclass(frozen=True)
class IndexProblem:
    """Something wrong in the home; ``line`` and ``column`` are 1-based, when known."""

    path: Path
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = str(self.path)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class CollectionIndex:
    """Every loadable collection of a home, and the problems found while reading it."""

    home: Path
    collections: dict[str, Collection]  # by directory name, sorted
    problems: tuple[IndexProblem, ...]

    def get(self, name: str) -> Collection | None:
        return self.collections.get(name)

    def names(self) -> list[str]:
        return sorted(self.collections)

    def closest(self, name: str, limit: int = 5) -> list[str]:
        """Known collection names, the closest to ``name`` first (ties by name), at most ``limit``."""
        wanted = name.lower()

        def score(candidate: str) -> float:
            return difflib.SequenceMatcher(None, wanted, candidate.lower()).ratio()

        ranked = sorted(self.collections, key=lambda candidate: (-score(candidate), candidate))
        return ranked[: max(limit, 0)]

    def holding(self, name: str, type: str) -> list[str]:
        """Names of the collections that hold the artifact ``(name, type)``, sorted."""
        return sorted(n for n, c in self.collections.items() if c.find(name, type))
