"""The collections index: what the SkillMeat home holds, read from disk and kept in the cache.

This module owns reading ``<home>/collections/<name>/collection.toml`` (a directory counts only if
that file exists) and ``collection.lock``, hashing each artifact's copy on disk
(:func:`skillmeat_ls.hashing.content_hash`), and the cache tables that mirror them:
``collections``, ``collection_artifacts``, ``groups``, ``group_artifacts`` (SkillMeat's schema,
membership ids ``"type:name"``) and ``collection_sources``, ``indexed_artifacts`` (this server's).

Bad input never raises. Each problem becomes an :class:`IndexProblem` naming the file (with the
1-based line and column when they are known) and the thing skipped:

* a manifest that is not TOML, lacks ``[collection]``, or whose ``artifacts`` is not an array of
  tables: that collection is skipped, the others load;
* an artifact with a missing or mistyped ``name``/``type``/``path``, an unsafe name, an unknown
  type, a repeated ``(name, type)``, or a ``path`` that is absolute, leaves the collection (``..``)
  or resolves outside it through a symlink: that artifact is skipped;
* keys SkillMeat requires but this index does not need (``[collection]`` ``version``/``created``/
  ``updated``, an artifact's ``origin``/``added``): reported, nothing skipped;
* a broken ``collection.lock`` or a bad lock entry: reported, the lock hashes are ``None``;
* an artifact whose files are missing or unreadable: reported, ``content_hash`` is ``None``.

With a cache engine, :func:`load_collections` reuses the stored hashes: an artifact whose
:func:`~skillmeat_ls.hashing.tree_fingerprint` (stat data only) and path are unchanged is not
re-hashed. The manifest and lock are re-read on every load (they are small); their stat data is
stored in ``collection_sources``. Writes happen in one ``BEGIN IMMEDIATE`` transaction per load,
after all hashing, so concurrent servers on one cache serialise cleanly. A collection removed from
disk is deleted from the cache (the cascades remove the rest); one whose manifest is broken keeps
its rows, with the problem in ``collection_sources.error``, so fixing it costs no re-hash. The
cache mirrors one home: rows of collections under another home are left alone.
"""

from __future__ import annotations

import difflib
import os
import posixpath
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from skillmeat_ls.cache import models
from skillmeat_ls.hashing import content_hash, tree_fingerprint
from skillmeat_ls.schema import KNOWN_TYPES, is_safe_name, normalize_name

if TYPE_CHECKING:
    from skillmeat_ls.cache.store import Cache

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

MANIFEST_NAME = "collection.toml"
LOCK_NAME = "collection.lock"
COLLECTIONS_DIR = "collections"

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")
_HASH = re.compile(r"[0-9a-f]{64}")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


# --- public API ----------------------------------------------------------------------------------


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


def open_index(home: Path, cache_path: Path | None) -> tuple[Cache | None, CollectionIndex]:
    """Open the cache at ``cache_path`` (migrated to head; None: no cache) and index ``home``'s
    collections through it: the one way the server and the ``check`` job get their index. The
    cache stays open for the caller (which closes it); its status says whether it is usable."""
    from skillmeat_ls.cache import initialize_cache

    cache = initialize_cache(cache_path) if cache_path is not None else None
    try:
        return cache, load_collections(home, cache.engine if cache is not None else None)
    except BaseException:
        if cache is not None:
            cache.close()
        raise


def load_collections(home: Path, engine: Engine | None = None) -> CollectionIndex:
    """Index the collections of the SkillMeat ``home``; with ``engine``, through the cache.

    Never raises for bad input (see the module doc for how problems are reported). A missing home
    or ``collections`` directory is an empty index.
    """
    home = Path(home)
    collections_dir = home / COLLECTIONS_DIR
    problems: list[IndexProblem] = []
    discovered = _discover(collections_dir, problems)
    parsed = [_parse_collection(name, root) for name, root in discovered]

    stored: dict[tuple[str, str], _Stored] = {}
    if engine is not None:
        try:
            stored = _read_stored(engine, [p.source_key for p in parsed])
        except SQLAlchemyError as exc:
            problems.append(_cache_problem(engine, f"cannot read the cache: {exc}"))
            engine = None

    for item in parsed:
        if item.ok:
            _hash_entries(item, stored)

    listed = not any(problem.path == collections_dir for problem in problems)
    if engine is not None:
        try:
            _write_cache(engine, collections_dir, parsed, remove_missing=listed)
        except SQLAlchemyError as exc:
            problems.append(_cache_problem(engine, f"cannot update the cache: {exc}"))

    collections: dict[str, Collection] = {}
    for item in parsed:
        problems.extend(item.problems)
        if item.ok:
            collections[item.name] = item.to_collection()
    return CollectionIndex(home=home, collections=collections, problems=tuple(problems))


# --- reading the manifest and the lock -----------------------------------------------------------


@dataclass
class _Entry:
    """An artifact from the manifest, before and after hashing."""

    name: str
    type: str
    rel_path: str
    path: Path
    description: str | None
    lock_hash: str | None = None
    content_hash: str | None = None
    fingerprint: str | None = None

    @property
    def artifact_id(self) -> str:
        return f"{self.type}:{self.name}"


@dataclass(frozen=True)
class _FileStat:
    mtime_ns: int | None
    size: int | None


@dataclass
class _Parsed:
    """One collection directory as read from disk."""

    name: str
    root: Path
    source_key: str  # ``collection_sources.root_path``
    manifest_stat: _FileStat
    lock_stat: _FileStat
    ok: bool = True
    entries: list[_Entry] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    mcp_servers: list[str] = field(default_factory=list)
    problems: list[IndexProblem] = field(default_factory=list)

    def to_collection(self) -> Collection:
        groups_of: dict[str, list[str]] = {}
        for group in self.groups:
            for member in group.members:
                groups_of.setdefault(member, []).append(group.name)
        artifacts = {
            (entry.name, entry.type): CollectionArtifact(
                name=entry.name,
                type=entry.type,
                rel_path=entry.rel_path,
                path=entry.path,
                content_hash=entry.content_hash,
                lock_hash=entry.lock_hash,
                description=entry.description,
                groups=tuple(groups_of.get(entry.artifact_id, ())),
            )
            for entry in self.entries
        }
        return Collection(
            name=self.name,
            path=self.root,
            artifacts=artifacts,
            groups=tuple(self.groups),
            mcp_servers=tuple(self.mcp_servers),
        )


def _discover(collections_dir: Path, problems: list[IndexProblem]) -> list[tuple[str, Path]]:
    try:
        with os.scandir(collections_dir) as scan:
            # dot-entries are SkillMeat's lock, backup and swap siblings, never collections
            names = sorted(e.name for e in scan if e.is_dir() and not e.name.startswith("."))
    except FileNotFoundError:
        return []
    except OSError as exc:
        problems.append(IndexProblem(collections_dir, f"cannot list the collections: {exc}"))
        return []
    root = collections_dir.absolute()
    return [(name, root / name) for name in names if (root / name / MANIFEST_NAME).is_file()]


def _stat(path: Path) -> _FileStat:
    try:
        st = path.stat()
    except OSError:
        return _FileStat(None, None)
    return _FileStat(st.st_mtime_ns, st.st_size)


def _source_key(root: Path) -> str:
    # The collections directory resolved, the collection's own name kept: a symlinked collection
    # keeps its key, and "is this row under this home" is a parent comparison.
    return str(root.parent.resolve() / root.name)


def _load_toml(path: Path, problems: list[IndexProblem]) -> tuple[dict[str, Any], str] | None:
    """The parsed document and its text, or None (with a problem) if it cannot be read."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        problems.append(IndexProblem(path, f"not UTF-8 text: {exc}"))
        return None
    except OSError as exc:
        problems.append(IndexProblem(path, f"cannot read: {exc.strerror or exc}"))
        return None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = column = None
        match = _TOML_POSITION.search(message)
        if match:
            line, column = int(match.group(1)), int(match.group(2))
            message = message[: match.start()]
        elif _TOML_AT_END.search(message):
            lines = text.splitlines() or [""]
            line, column = len(lines), len(lines[-1]) + 1
            message = _TOML_AT_END.sub("", message) + " (at end of document)"
        problems.append(IndexProblem(path, f"invalid TOML: {message}", line, column))
        return None


def _header_lines(text: str, table: str) -> list[int]:
    """1-based lines of the ``[[table]]`` headers, in order (a best effort for positions)."""
    pattern = re.compile(rf"""^\s*\[\[\s*(?:{re.escape(table)}|"{re.escape(table)}")\s*\]\]""")
    return [number for number, line in enumerate(text.splitlines(), 1) if pattern.match(line)]


class _Reporter:
    """Problems about one file, positioned at the header of the n-th ``[[table]]`` when known."""

    def __init__(self, path: Path, text: str, table: str, count: int, out: list[IndexProblem]):
        lines = _header_lines(text, table)
        self.lines = lines if len(lines) == count else []
        self.path = path
        self.table = table
        self.out = out

    def __call__(self, index: int, message: str) -> None:
        line = self.lines[index] if self.lines else None
        self.out.append(
            IndexProblem(
                self.path, f"[[{self.table}]] #{index + 1}: {message}", line, 1 if line else None
            )
        )


def _parse_collection(name: str, root: Path) -> _Parsed:
    manifest = root / MANIFEST_NAME
    lock = root / LOCK_NAME
    parsed = _Parsed(
        name=name,
        root=root,
        source_key=_source_key(root),
        manifest_stat=_stat(manifest),
        lock_stat=_stat(lock),
    )
    problems = parsed.problems
    loaded = _load_toml(manifest, problems)
    if loaded is None:
        parsed.ok = False
        return parsed
    doc, text = loaded

    header = doc.get("collection")
    if not isinstance(header, dict):
        problems.append(IndexProblem(manifest, "missing [collection] table; collection skipped"))
        parsed.ok = False
        return parsed
    missing = [key for key in ("name", "version", "created", "updated") if key not in header]
    if missing:
        keys = ", ".join(repr(key) for key in missing)
        problems.append(
            IndexProblem(manifest, f"[collection] lacks {keys}, which SkillMeat requires")
        )
    declared = header.get("name")
    if declared is not None and declared != name:
        problems.append(
            IndexProblem(
                manifest,
                f"[collection] name is {declared!r} but the directory is {name!r}; "
                f"deployment files use the directory name",
            )
        )

    raw_artifacts = doc.get("artifacts", [])
    if not isinstance(raw_artifacts, list):
        problems.append(
            IndexProblem(manifest, "'artifacts' must be an array of tables; collection skipped")
        )
        parsed.ok = False
        return parsed

    lock_hashes = _read_lock(lock, problems)
    report = _Reporter(manifest, text, "artifacts", len(raw_artifacts), problems)
    root_resolved = _resolve(root)
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(raw_artifacts):
        entry = _parse_artifact(raw, index, root, root_resolved, report)
        if entry is None:
            continue
        if (entry.name, entry.type) in seen:
            report(index, f"{entry.type} {entry.name!r} is listed twice; the first one is used")
            continue
        seen.add((entry.name, entry.type))
        entry.lock_hash = lock_hashes.get((entry.name, entry.type))
        parsed.entries.append(entry)

    parsed.groups = _parse_groups(doc.get("groups", []), manifest, text, problems)
    parsed.mcp_servers = _parse_mcp_servers(doc.get("mcp_servers", []), manifest, text, problems)
    return parsed


def _resolve(path: Path) -> str | None:
    """The real path (symlinks followed as far as they go), or None if it cannot be computed."""
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return None


def _parse_artifact(
    raw: object, index: int, root: Path, root_resolved: str | None, report: _Reporter
) -> _Entry | None:
    if not isinstance(raw, dict):
        report(index, "not a table; skipped")
        return None
    values: dict[str, str] = {}
    for key in ("name", "type", "path"):
        value = raw.get(key)
        if value is None:
            report(index, f"missing required key {key!r}; skipped")
            return None
        if not isinstance(value, str) or not value:
            report(index, f"{key!r} must be a non-empty string; skipped")
            return None
        values[key] = value
    name, artifact_type, raw_path = values["name"], values["type"], values["path"]
    label = f"{artifact_type} {name!r}"
    if not is_safe_name(name):
        report(index, f"unsafe artifact name {name!r} (no '/', '\\', '..', NUL or leading '.')")
        return None
    if artifact_type not in KNOWN_TYPES:
        report(index, f"unknown artifact type {artifact_type!r} for {name!r}; skipped")
        return None
    for key in ("origin", "added"):
        if key not in raw:
            report(index, f"{label} lacks {key!r}, which SkillMeat requires")

    rel_path = _relative_path(raw_path)
    if rel_path is None:
        report(index, f"{label}: path {raw_path!r} is absolute; skipped")
        return None
    if rel_path == ".." or rel_path.startswith("../"):
        report(index, f"{label}: path {raw_path!r} leaves the collection; skipped")
        return None
    if rel_path == ".":
        report(index, f"{label}: path {raw_path!r} is the collection itself; skipped")
        return None
    path = root / rel_path
    resolved = _resolve(path)
    if root_resolved is None or resolved is None:
        report(index, f"{label}: path {raw_path!r} cannot be resolved; skipped")
        return None
    if not resolved.startswith(root_resolved.rstrip(os.sep) + os.sep):
        report(
            index,
            f"{label}: path {raw_path!r} resolves to {resolved}, outside the collection "
            f"(a symlink); skipped",
        )
        return None

    description = None
    metadata = raw.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            report(index, f"{label}: 'metadata' must be a table; ignored")
        else:
            value = metadata.get("description")
            if isinstance(value, str):
                description = value
            elif value is not None:
                report(index, f"{label}: metadata 'description' must be a string; ignored")
    return _Entry(name, artifact_type, rel_path, path, description)


def _relative_path(raw: str) -> str | None:
    """``raw`` normalised to ``/`` separators, no ``.``/trailing slash; None if absolute."""
    unified = raw.replace("\\", "/")
    if unified.startswith("/") or _WINDOWS_DRIVE.match(unified):
        return None
    return posixpath.normpath(unified)


def _read_lock(lock: Path, problems: list[IndexProblem]) -> dict[tuple[str, str], str]:
    """``(name, type) -> content_hash`` from ``collection.lock``; empty if it is absent."""
    if not lock.exists():
        return {}
    loaded = _load_toml(lock, problems)
    if loaded is None:
        return {}
    doc, _text = loaded
    table = doc.get("lock")
    if not isinstance(table, dict):
        problems.append(IndexProblem(lock, "missing [lock] table; lock hashes ignored"))
        return {}
    entries = table.get("entries", {})
    if not isinstance(entries, dict):
        problems.append(IndexProblem(lock, "[lock] 'entries' must be a table; ignored"))
        return {}
    hashes: dict[tuple[str, str], str] = {}
    for key, entry in entries.items():
        name, sep, artifact_type = key.partition("::")
        if not sep:
            problems.append(IndexProblem(lock, f"lock entry {key!r} is not 'name::type'; ignored"))
            continue
        value = entry.get("content_hash") if isinstance(entry, dict) else None
        if not isinstance(value, str) or not _HASH.fullmatch(value):
            problems.append(
                IndexProblem(lock, f"lock entry {key!r} has no valid content_hash; ignored")
            )
            continue
        hashes[(name, artifact_type)] = value
    return hashes


def _parse_groups(
    raw_groups: object, manifest: Path, text: str, problems: list[IndexProblem]
) -> list[Group]:
    if not isinstance(raw_groups, list):
        problems.append(IndexProblem(manifest, "'groups' must be an array of tables; ignored"))
        return []
    report = _Reporter(manifest, text, "groups", len(raw_groups), problems)
    found: list[tuple[int, int, Group]] = []
    names: set[str] = set()
    for index, raw in enumerate(raw_groups):
        if not isinstance(raw, dict):
            report(index, "not a table; ignored")
            continue
        name = raw.get("name")
        if not isinstance(name, str) or not 0 < len(name) <= 255:
            report(index, "'name' must be a string of 1 to 255 characters; group ignored")
            continue
        if name in names:
            report(index, f"group {name!r} is defined twice; the first one is used")
            continue
        description = raw.get("description")
        if description is not None and not isinstance(description, str):
            report(index, f"group {name!r}: 'description' must be a string; ignored")
            description = None
        position = raw.get("position", 0)
        if isinstance(position, bool) or not isinstance(position, int) or position < 0:
            report(index, f"group {name!r}: 'position' must be an integer >= 0; 0 used")
            position = 0
        raw_members = raw.get("members", [])
        if not isinstance(raw_members, list):
            report(index, f"group {name!r}: 'members' must be an array of strings; ignored")
            raw_members = []
        members: list[str] = []
        for member in raw_members:
            if not isinstance(member, str) or not _is_member_id(member):
                report(index, f"group {name!r}: member {member!r} is not 'type:name'; ignored")
            elif member not in members:
                members.append(member)
        names.add(name)
        found.append((position, index, Group(name, description, position, tuple(members))))
    return [group for _position, _index, group in sorted(found, key=lambda item: item[:2])]


def _is_member_id(member: str) -> bool:
    artifact_type, sep, name = member.partition(":")
    return bool(sep and artifact_type and name)


def _parse_mcp_servers(
    raw_servers: object, manifest: Path, text: str, problems: list[IndexProblem]
) -> list[str]:
    if not isinstance(raw_servers, list):
        problems.append(IndexProblem(manifest, "'mcp_servers' must be an array of tables; ignored"))
        return []
    report = _Reporter(manifest, text, "mcp_servers", len(raw_servers), problems)
    names: list[str] = []
    for index, raw in enumerate(raw_servers):
        name = raw.get("name") if isinstance(raw, dict) else None
        if not isinstance(name, str) or not name:
            report(index, "an MCP server needs a non-empty 'name'; ignored")
        elif name not in names:
            names.append(name)
    return names


# --- hashing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Stored:
    """What the cache holds about one artifact."""

    rel_path: str
    fingerprint: str | None
    content_hash: str | None


def _hash_entries(parsed: _Parsed, stored: dict[tuple[str, str], _Stored]) -> None:
    """Fill in each entry's hash and fingerprint, reusing the stored hash when nothing changed."""
    manifest = parsed.root / MANIFEST_NAME
    for entry in parsed.entries:
        label = f"{entry.type} {entry.name!r}"
        try:
            fingerprint = tree_fingerprint(entry.path)
        except FileNotFoundError:
            parsed.problems.append(
                IndexProblem(manifest, f"{label}: {entry.rel_path} is missing on disk")
            )
            continue
        except OSError as exc:
            parsed.problems.append(
                IndexProblem(manifest, f"{label}: cannot read {entry.rel_path}: {exc}")
            )
            continue
        previous = stored.get((parsed.source_key, entry.artifact_id))
        if (
            previous is not None
            and previous.content_hash is not None
            and previous.fingerprint == fingerprint
            and previous.rel_path == entry.rel_path
        ):
            entry.content_hash, entry.fingerprint = previous.content_hash, fingerprint
            continue
        try:
            entry.content_hash = content_hash(entry.path)
        except (OSError, ValueError, UnicodeError) as exc:
            parsed.problems.append(
                IndexProblem(manifest, f"{label}: cannot hash {entry.rel_path}: {exc}")
            )
            continue
        entry.fingerprint = fingerprint


# --- the cache -----------------------------------------------------------------------------------


def _cache_problem(engine: Engine, message: str) -> IndexProblem:
    return IndexProblem(Path(engine.url.database or ":memory:"), message)


def _read_stored(engine: Engine, keys: Sequence[str]) -> dict[tuple[str, str], _Stored]:
    """Stored hashes of the artifacts of the collections at ``keys``: ``(key, artifact_id)``."""
    if not keys:
        return {}
    ia, src = models.IndexedArtifact, models.CollectionSource
    query = (
        select(src.root_path, ia.artifact_id, ia.rel_path, ia.fingerprint, ia.content_hash)
        .join(src, src.collection_id == ia.collection_id)
        .where(src.root_path.in_(list(keys)))
    )
    with engine.connect() as conn:
        return {
            (row.root_path, row.artifact_id): _Stored(
                row.rel_path, row.fingerprint, row.content_hash
            )
            for row in conn.execute(query)
        }


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _write_cache(
    engine: Engine, collections_dir: Path, parsed: Sequence[_Parsed], *, remove_missing: bool
) -> None:
    with engine.connect() as conn:
        # Take the write lock first: what is read below is then what the writes apply to.
        dbapi_connection = conn.connection.dbapi_connection
        if not getattr(dbapi_connection, "in_transaction", False):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        src = models.CollectionSource
        sources = {row.root_path: row for row in conn.execute(select(src))}
        for item in parsed:
            _write_collection(conn, item, sources.get(item.source_key))
        home_key = str(collections_dir.resolve())
        present = {item.source_key for item in parsed}
        removed = [
            row.collection_id
            for key, row in sources.items()
            if key not in present and str(Path(key).parent) == home_key
        ]
        if removed and remove_missing:
            conn.execute(delete(models.Collection).where(models.Collection.id.in_(removed)))
        conn.commit()


def _problem_summary(problems: Iterable[IndexProblem]) -> str | None:
    text = "\n".join(str(problem) for problem in problems)
    return text or None


def _changed(row: Any, values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if getattr(row, key) != value}


def _write_collection(conn: Connection, item: _Parsed, source: Any | None) -> None:
    src = models.CollectionSource
    error = _problem_summary(item.problems)
    if not item.ok:
        # Keep the rows (and their hashes) of a collection whose manifest is broken for now.
        if source is not None and source.error != error:
            conn.execute(
                update(src).where(src.collection_id == source.collection_id).values(error=error)
            )
        return

    stats = {
        "manifest_mtime_ns": item.manifest_stat.mtime_ns,
        "manifest_size": item.manifest_stat.size,
        "lock_mtime_ns": item.lock_stat.mtime_ns,
        "lock_size": item.lock_stat.size,
        "error": error,
    }
    if source is None:
        collection_id = uuid.uuid4().hex
        conn.execute(insert(models.Collection).values(id=collection_id, name=item.name))
        conn.execute(
            insert(src).values(collection_id=collection_id, root_path=item.source_key, **stats)
        )
    else:
        collection_id = source.collection_id
        coll = models.Collection
        current = conn.execute(select(coll.name).where(coll.id == collection_id)).scalar_one()
        if current != item.name:
            conn.execute(update(coll).where(coll.id == collection_id).values(name=item.name))
        changes = _changed(source, stats)
        if changes:
            conn.execute(
                update(src)
                .where(src.collection_id == collection_id)
                .values(**changes, indexed_at=_now())
            )
    _write_artifacts(conn, collection_id, item.entries)
    _write_groups(conn, collection_id, item.groups)


def _write_artifacts(conn: Connection, collection_id: str, entries: Sequence[_Entry]) -> None:
    ca, ia = models.CollectionArtifact, models.IndexedArtifact
    members = set(
        conn.execute(select(ca.artifact_id).where(ca.collection_id == collection_id)).scalars()
    )
    indexed = {
        row.artifact_id: row
        for row in conn.execute(select(ia).where(ia.collection_id == collection_id))
    }
    wanted = {entry.artifact_id: entry for entry in entries}
    gone = members - wanted.keys()
    if gone:
        # Cascades to indexed_artifacts.
        conn.execute(delete(ca).where(ca.collection_id == collection_id, ca.artifact_id.in_(gone)))
    new_members = [aid for aid in wanted if aid not in members]
    if new_members:
        conn.execute(
            insert(ca),
            [{"collection_id": collection_id, "artifact_id": aid} for aid in new_members],
        )
    inserts: list[dict[str, Any]] = []
    for aid, entry in wanted.items():
        values = {
            "name": entry.name,
            "type": entry.type,
            "rel_path": entry.rel_path,
            "description": entry.description,
            "content_hash": entry.content_hash,
            "lock_hash": entry.lock_hash,
            "fingerprint": entry.fingerprint,
        }
        row = indexed.get(aid)
        if row is None:
            inserts.append({"collection_id": collection_id, "artifact_id": aid, **values})
            continue
        changes = _changed(row, values)
        if changes:
            conn.execute(
                update(ia)
                .where(ia.collection_id == collection_id, ia.artifact_id == aid)
                .values(**changes, indexed_at=_now())
            )
    if inserts:
        conn.execute(insert(ia), inserts)


def _write_groups(conn: Connection, collection_id: str, groups: Sequence[Group]) -> None:
    gt, ga = models.Group, models.GroupArtifact
    existing = {
        row.name: row for row in conn.execute(select(gt).where(gt.collection_id == collection_id))
    }
    wanted = {group.name: group for group in groups}
    gone = [row.id for name, row in existing.items() if name not in wanted]
    if gone:
        conn.execute(delete(gt).where(gt.id.in_(gone)))  # cascades to group_artifacts
    kept_ids = [row.id for name, row in existing.items() if name in wanted]
    current_members: dict[str, dict[str, int]] = {}
    if kept_ids:
        for row in conn.execute(
            select(ga.group_id, ga.artifact_id, ga.position).where(ga.group_id.in_(kept_ids))
        ):
            current_members.setdefault(row.group_id, {})[row.artifact_id] = row.position

    for name, group in wanted.items():
        row = existing.get(name)
        values = {"description": group.description, "position": group.position}
        if row is None:
            group_id = uuid.uuid4().hex
            conn.execute(
                insert(gt).values(id=group_id, collection_id=collection_id, name=name, **values)
            )
        else:
            group_id = row.id
            changes = _changed(row, values)
            if changes:
                conn.execute(update(gt).where(gt.id == group_id).values(**changes))
        have = current_members.get(group_id, {})
        want = {member: position for position, member in enumerate(group.members)}
        stale = [aid for aid in have if aid not in want]
        if stale:
            conn.execute(delete(ga).where(ga.group_id == group_id, ga.artifact_id.in_(stale)))
        for aid, position in want.items():
            if aid not in have:
                conn.execute(
                    insert(ga).values(group_id=group_id, artifact_id=aid, position=position)
                )
            elif have[aid] != position:
                conn.execute(
                    update(ga)
                    .where(ga.group_id == group_id, ga.artifact_id == aid)
                    .values(position=position)
                )
