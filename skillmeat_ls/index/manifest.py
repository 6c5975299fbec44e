"""Reading a collection from disk: its ``collection.toml`` manifest and its ``collection.lock``.

This module owns finding the collections (``<home>/collections/<name>/``; a directory counts only
if its ``collection.toml`` exists, dot-entries never do) and parsing each one into a
:class:`_Parsed`: the artifacts the manifest lists (with their lock hashes), its ``[[groups]]`` and
``[[mcp_servers]]``, and the stat data of the two files. Nothing here hashes or touches the cache.

Bad input never raises. Each problem becomes an :class:`~skillmeat_ls.index.IndexProblem` naming
the file (with the 1-based line and column when they are known) and the thing skipped:

* a manifest that is not TOML, lacks ``[collection]``, or whose ``artifacts`` is not an array of
  tables: that collection is skipped (``_Parsed.ok`` is false), the others load;
* an artifact with a missing or mistyped ``name``/``type``/``path``, an unsafe name, an unknown
  type, a repeated ``(name, type)``, or a ``path`` that is absolute, leaves the collection (``..``)
  or resolves outside it through a symlink: that artifact is skipped;
* keys SkillMeat requires but this index does not need (``[collection]`` ``version``/``created``/
  ``updated``, an artifact's ``origin``/``added``): reported, nothing skipped;
* a broken ``collection.lock`` or a bad lock entry: reported, the lock hashes are ``None``.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skillmeat_ls import code_digest
from skillmeat_ls.index.model import (
    LOCK_NAME,
    MANIFEST_NAME,
    Collection,
    CollectionArtifact,
    Group,
    IndexProblem,
)
from skillmeat_ls.schema import KNOWN_TYPES, is_safe_name
from skillmeat_ls.tomlread import loads, tomllib

_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_AT_END = re.compile(r"\s*\(at end of document\)\s*$")
_HASH = re.compile(r"[0-9a-f]{64}")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")


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
    #: What to keep in the cache to skip this reading next time (see :func:`_parse_collection`).
    snapshot: str | None = None
    #: Whether this was taken from such a snapshot (so the cache already holds it).
    restored: bool = False

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
        return loads(text), text
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


def snapshot_format() -> str:
    """The shape of a snapshot and the code that took it (:func:`~skillmeat_ls.code_digest`): a
    snapshot another version of the reading took is never restored."""
    return f"1/{code_digest()}"


def _parse_collection(name: str, root: Path, snapshot: str | None = None) -> _Parsed:
    """Read the collection at ``root``. What comes out depends only on the text of its manifest
    and lock and on where the paths it checks resolve to on disk, so a ``snapshot`` (a previous
    reading's :attr:`_Parsed.snapshot`) is restored instead of parsing when both files have the
    stat data it was taken with and every one of those paths still resolves as it did."""
    manifest = root / MANIFEST_NAME
    lock = root / LOCK_NAME
    parsed = _Parsed(
        name=name,
        root=root,
        source_key=_source_key(root),
        manifest_stat=_stat(manifest),
        lock_stat=_stat(lock),
    )
    resolver = _Resolver()
    if snapshot is not None:
        restored = _restore(parsed, snapshot, resolver)
        if restored is not None:
            return restored
    _read_into(parsed, resolver)
    parsed.snapshot = _snapshot(parsed, resolver.seen)
    return parsed


def _read_into(parsed: _Parsed, resolver: _Resolver) -> None:
    """Parse the manifest and lock into ``parsed`` (paths resolved through ``resolver``)."""
    name, root = parsed.name, parsed.root
    manifest = root / MANIFEST_NAME
    lock = root / LOCK_NAME
    problems = parsed.problems
    loaded = _load_toml(manifest, problems)
    if loaded is None:
        parsed.ok = False
        return
    doc, text = loaded

    header = doc.get("collection")
    if not isinstance(header, dict):
        problems.append(IndexProblem(manifest, "missing [collection] table; collection skipped"))
        parsed.ok = False
        return
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
        return

    lock_hashes = _read_lock(lock, problems)
    report = _Reporter(manifest, text, "artifacts", len(raw_artifacts), problems)
    root_resolved = resolver(root)
    seen: set[tuple[str, str]] = set()
    for index, raw in enumerate(raw_artifacts):
        entry = _parse_artifact(raw, index, root, root_resolved, report, resolver)
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


def _snapshot(parsed: _Parsed, resolved: dict[str, str | None]) -> str:
    """``parsed`` (all but the hashes) as JSON, with the stat data of its two files and the paths
    it resolved: everything :func:`_restore` needs to know it still holds."""
    return json.dumps(
        {
            "format": snapshot_format(),
            "source_key": parsed.source_key,
            "manifest": [parsed.manifest_stat.mtime_ns, parsed.manifest_stat.size],
            "lock": [parsed.lock_stat.mtime_ns, parsed.lock_stat.size],
            "resolved": resolved,
            "ok": parsed.ok,
            "entries": [
                [e.name, e.type, e.rel_path, e.description, e.lock_hash] for e in parsed.entries
            ],
            "groups": [[g.name, g.description, g.position, list(g.members)] for g in parsed.groups],
            "mcp_servers": parsed.mcp_servers,
            "problems": [[str(p.path), p.message, p.line, p.column] for p in parsed.problems],
        },
        separators=(",", ":"),
    )


def _restore(parsed: _Parsed, snapshot: str, resolver: _Resolver) -> _Parsed | None:
    """``parsed`` filled from ``snapshot`` if it still holds (see :func:`_parse_collection`);
    None if it does not, or is not a snapshot this version took (a damaged cache included)."""
    try:
        data = json.loads(snapshot)
        if (
            data["format"] != snapshot_format()
            or data["source_key"] != parsed.source_key
            or data["manifest"] != [parsed.manifest_stat.mtime_ns, parsed.manifest_stat.size]
            or data["lock"] != [parsed.lock_stat.mtime_ns, parsed.lock_stat.size]
            or any(resolver(Path(path)) != real for path, real in data["resolved"].items())
        ):
            return None
        root = parsed.root
        parsed.ok = bool(data["ok"])
        parsed.entries = [
            _Entry(name, kind, rel_path, root / rel_path, description, lock_hash)
            for name, kind, rel_path, description, lock_hash in data["entries"]
        ]
        parsed.groups = [
            Group(name, description, position, tuple(members))
            for name, description, position, members in data["groups"]
        ]
        parsed.mcp_servers = list(data["mcp_servers"])
        parsed.problems = [
            IndexProblem(Path(path), message, line, column)
            for path, message, line, column in data["problems"]
        ]
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    parsed.snapshot, parsed.restored = snapshot, True
    return parsed


class _Resolver:
    """Real paths (symlinks followed as far as they go; None if it cannot be computed), with the
    folders on the way resolved once: the artifacts of one folder (``skills/``, ``commands/``)
    then cost one ``lstat`` each instead of a ``realpath`` walk."""

    def __init__(self) -> None:
        self._folders: dict[str, str | None] = {}
        #: Every path asked about, with its answer.
        self.seen: dict[str, str | None] = {}

    def _folder(self, folder: str) -> str | None:
        if folder not in self._folders:
            self._folders[folder] = _realpath(folder)
        return self._folders[folder]

    def __call__(self, path: Path) -> str | None:
        key = os.fspath(path)
        folder, name = os.path.split(key)
        real_folder = self._folder(folder)
        if real_folder is None or name in ("", ".", ".."):
            found = _realpath(path)
        else:
            candidate = os.path.join(real_folder, name)
            # realpath(folder/name) is realpath(folder)/name unless name itself is a symlink
            found = _realpath(candidate) if os.path.islink(candidate) else candidate
        self.seen[key] = found
        return found


def _realpath(path: str | os.PathLike[str]) -> str | None:
    try:
        return os.path.realpath(path)
    except (OSError, ValueError):
        return None


def _parse_artifact(
    raw: object,
    index: int,
    root: Path,
    root_resolved: str | None,
    report: _Reporter,
    resolve: _Resolver,
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
    resolved = resolve(path)
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
