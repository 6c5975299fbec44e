"""Looking at a cache file before anything else does: whose it is and what state it is in.

:func:`probe` uses the standard ``sqlite3`` module alone (no SQLAlchemy, no Alembic) and never
writes a byte to the file or next to it, because until it has answered, the file may belong to
someone else (SkillMeat's own ``cache.db`` is the usual one). Opening a WAL-mode database even
with ``mode=ro`` creates ``-wal`` and ``-shm`` files and writes to an existing ``-shm``, so:

* a WAL database with no pending ``-wal`` content is opened ``immutable=1``: no lock, no side
  file, and the main file holds everything;
* a rollback-journal database with no ``-journal`` is opened ``mode=ro`` (a read lock only);
* a WAL database with a non-empty ``-wal`` (its writer is running, or died) is read directly
  (``mode=ro``, which may touch its ``-wal``/``-shm``) only when its main file already says it is
  one of ours; otherwise, like a database with a ``-journal``, it is read from a private copy
  (main file and journal) in a temporary directory.

The verdict (:class:`Kind`):

* an unversioned database (no ``alembic_version``, or an empty one) is ours to *adopt* only when
  its tables and their columns are exactly :data:`~skillmeat_ls.cache.revisions.SCHEMAS` of one
  revision and it holds no other table or view;
* a database stamped with one of our revisions is ours unless it also holds tables no revision
  creates (SkillMeat's ``cache.db`` stamped by an earlier, careless skillmeat-ls);
* everything else that SQLite can read is :attr:`Kind.FOREIGN`, and is never written.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

from skillmeat_ls.cache.revisions import ALL_TABLES, HEAD, REVISIONS, SCHEMAS

SQLITE_MAGIC = b"SQLite format 3\x00"
VERSION_TABLE = "alembic_version"

_FAST_QUERY = (
    "SELECT (SELECT group_concat(version_num, ',') FROM alembic_version), "
    "(SELECT count(*) FROM sqlite_master WHERE type IN ('table', 'view') "
    "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'), "
    "(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ({names}))"
).format(names=",".join(f"'{name}'" for name in sorted(ALL_TABLES | {VERSION_TABLE})))
_EXPECTED_AT_HEAD = len(ALL_TABLES) + 1

# Tables of SkillMeat's own cache.db that no skillmeat-ls revision creates (a few of them suffice
# to recognise it, in any of its versions), and the shapes of its revision ids.
SKILLMEAT_TABLES = frozenset(
    {
        "api_keys", "artifact_metadata", "artifact_tags", "artifact_versions",
        "artifact_history_events", "collection_artifact_lineage", "community_scores",
        "composite_artifacts", "composite_memberships", "context_modules", "deployment_profiles",
        "deployment_sets", "marketplace", "marketplace_catalog_entries", "marketplace_sources",
        "match_history", "project_templates", "tags", "teams", "user_ratings", "users",
        "workflows",
    }
)  # fmt: skip
_SKILLMEAT_REVISION = re.compile(r"^(\d{8}_\d{4}_\w+|\d{3}_\w+|ent_\d{3}_\w+)$")
_CORRUPT_ERRORS = ("SQLITE_CORRUPT", "SQLITE_NOTADB")
_LISTED = 6


class Kind(Enum):
    MISSING = "missing"
    EMPTY = "empty"  # a zero-byte file, or a database with no table
    AT_HEAD = "at-head"
    KNOWN = "known"  # stamped with one of our revisions, needs an upgrade (or missing tables)
    UNTRACKED = "untracked"  # unversioned, and exactly the schema of one revision: adoptable
    FOREIGN = "foreign"  # never written
    CORRUPT = "corrupt"  # not a SQLite database, or one SQLite reports as damaged
    UNREADABLE = "unreadable"  # cannot be read now (permissions, locks, a moving snapshot)


@dataclass(frozen=True)
class Probe:
    kind: Kind
    #: What ``alembic_version`` holds (several rows joined with commas), if anything.
    revision: str | None = None
    #: For :attr:`Kind.UNTRACKED`: the revision whose schema the database matches exactly.
    adopt_as: str | None = None
    tables: frozenset[str] = frozenset()
    #: Why it is foreign, corrupt or unreadable, as a clause ("its tables do not match ...").
    detail: str = ""
    #: For :attr:`Kind.FOREIGN`: it looks like SkillMeat's own ``cache.db``.
    skillmeat: bool = False
    #: Row counts by table, when asked for.
    table_counts: dict[str, int] = field(default_factory=dict)


def probe(path: Path, *, thorough: bool = False, count_rows: bool = False) -> Probe:
    """Classify the file at ``path`` without writing to it or creating anything next to it.

    ``thorough`` runs ``PRAGMA quick_check`` (on databases that are ours) and never stops at the
    at-head shortcut; ``count_rows`` fills :attr:`Probe.table_counts`.
    """
    try:
        size = path.stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        return Probe(Kind.MISSING)
    except OSError as exc:
        return Probe(Kind.UNREADABLE, detail=exc.strerror or str(exc))
    if size == 0:
        return Probe(Kind.EMPTY)
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        return Probe(Kind.UNREADABLE, detail=exc.strerror or str(exc))
    if len(header) < 100 or not header.startswith(SQLITE_MAGIC):
        return Probe(Kind.CORRUPT, detail="not a SQLite database")
    how = _how_to_open(path, header)
    if how == _WAL_PENDING:
        # Ours: a reader may use its -wal and -shm. Anyone else's: read a private copy.
        how = _READ_ONLY if _main_file_is_ours(path) else _SNAPSHOT
    # A copy may be torn by a writer at work: what is wrong with it is never "corrupt" (which
    # would move the file aside), only "unreadable" for now.
    copy = how == _SNAPSHOT
    try:
        with _open(path, how) as conn:
            found = _classify(conn, thorough=thorough, count_rows=count_rows)
    except (sqlite3.Error, OSError) as exc:
        if copy:
            return Probe(Kind.UNREADABLE, detail=f"could not read a copy of it: {exc}")
        if isinstance(exc, sqlite3.DatabaseError) and _is_corrupt(exc):
            return Probe(Kind.CORRUPT, detail=str(exc))
        return Probe(Kind.UNREADABLE, detail=str(exc))
    if copy and found.kind is Kind.CORRUPT:
        return replace(found, kind=Kind.UNREADABLE, detail=f"a copy of it fails the {found.detail}")
    return found


def describe_foreign(path: Path, found: Probe) -> str:
    """Why ``path`` is not ours, as one sentence without a full stop."""
    if found.skillmeat:
        if found.revision in REVISIONS:
            return (
                f"{path} is not a skillmeat-ls cache (it looks like SkillMeat's own cache.db, "
                f"stamped {found.revision!r} by an earlier skillmeat-ls: {_tables_summary(found)}; "
                f"SkillMeat rebuilds it if {path.name}* is deleted)"
            )
        stamp = f"revision {found.revision!r}" if found.revision else "no revision stamp"
        if found.tables - ALL_TABLES - {VERSION_TABLE}:
            why = f"{stamp}, {_tables_summary(found)}"
        else:  # our tables with SkillMeat's columns, or SkillMeat's revision id
            why = found.detail
        return f"{path} is not a skillmeat-ls cache (it looks like SkillMeat's own cache.db: {why})"
    return f"{path} is not a skillmeat-ls cache ({found.detail})"


# --- opening without side files ------------------------------------------------------------------

_IMMUTABLE = "mode=ro&immutable=1"
_READ_ONLY = "mode=ro"
_SNAPSHOT = "snapshot"
_WAL_PENDING = "wal-pending"


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _how_to_open(path: Path, header: bytes) -> str:
    if 2 in (header[18], header[19]):  # WAL mode
        return _WAL_PENDING if _has_content(_sidecar(path, "-wal")) else _IMMUTABLE
    return _SNAPSHOT if _has_content(_sidecar(path, "-journal")) else _READ_ONLY


def _connect(path: Path, query: str) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?{query}", uri=True)


def _main_file_is_ours(path: Path) -> bool:
    """Whether the main file alone (ignoring its ``-wal``) is stamped with one of our revisions
    and holds nothing but our tables."""
    try:
        conn = _connect(path, _IMMUTABLE)
        try:
            versions, n_entries, n_ours = conn.execute(_FAST_QUERY).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return versions in REVISIONS and n_entries == n_ours


def copy_database(path: Path, directory: Path, name: str = "copy.db") -> Path:
    """A private copy of the database at ``path`` in ``directory``, with its ``-wal`` and
    ``-journal``: opened read-write, SQLite recovers it to what a reader of ``path`` sees."""
    copy = directory / name
    # The -wal before the main file: a checkpoint in between only copies frames of this -wal
    # into the main file, so the pair stays consistent. A -journal after it, for the same
    # reason (it holds the originals of pages being changed).
    wal = _sidecar(path, "-wal")
    if wal.exists():
        shutil.copyfile(wal, _sidecar(copy, "-wal"))
    shutil.copyfile(path, copy)
    journal = _sidecar(path, "-journal")
    if journal.exists():
        shutil.copyfile(journal, _sidecar(copy, "-journal"))
    return copy


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """``path`` opened for reading as :func:`probe` opens a file that is not ours: nothing is
    written to it or next to it (a private copy is read when a ``-wal`` or ``-journal`` is
    pending). Raises :class:`sqlite3.Error` or :class:`OSError`."""
    with path.open("rb") as handle:
        header = handle.read(100)
    how = _how_to_open(path, header)
    with _open(path, _SNAPSHOT if how == _WAL_PENDING else how) as conn:
        yield conn


@contextmanager
def _open(path: Path, how: str) -> Iterator[sqlite3.Connection]:
    if how != _SNAPSHOT:
        conn = _connect(path, how)
        try:
            yield conn
        finally:
            conn.close()
        return
    with tempfile.TemporaryDirectory(prefix="skillmeat-ls-probe-") as directory:
        copy = copy_database(path, Path(directory))
        conn = sqlite3.connect(copy)  # read-write, so that SQLite can recover the copy
        try:
            yield conn
        finally:
            conn.close()


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    name: str | None = getattr(exc, "sqlite_errorname", None)
    if name is not None:
        return name.startswith(_CORRUPT_ERRORS)
    return not isinstance(exc, sqlite3.OperationalError)


# --- classification ------------------------------------------------------------------------------


def _classify(conn: sqlite3.Connection, *, thorough: bool, count_rows: bool) -> Probe:
    has_version_table, malformed = True, False
    try:
        versions, n_entries, n_ours = conn.execute(_FAST_QUERY).fetchone()
    except sqlite3.OperationalError as exc:
        message = str(exc)
        if f"no such table: {VERSION_TABLE}" in message:
            has_version_table = False
        elif "no such column: version_num" in message:
            malformed = True
        else:
            raise
        versions = None
    else:
        at_head = versions == HEAD and n_entries == n_ours == _EXPECTED_AT_HEAD
        if at_head and not thorough and not count_rows:
            return Probe(Kind.AT_HEAD, revision=HEAD)
    entries = conn.execute(
        "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view')"
    ).fetchall()
    tables = frozenset(
        name for kind, name in entries if kind == "table" and not name.startswith("sqlite_")
    )
    views = sorted(name for kind, name in entries if kind == "view")
    found = _verdict(conn, versions, tables, views, has_version_table, malformed)
    if thorough and found.kind is not Kind.FOREIGN:
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            return Probe(Kind.CORRUPT, revision=versions, detail=f"integrity check: {verdict}")
    if count_rows:
        counts = {
            name: conn.execute(f"SELECT count(*) FROM {_quote(name)}").fetchone()[0]
            for name in sorted(tables)
        }
        found = replace(found, table_counts=counts)
    return found


def _verdict(
    conn: sqlite3.Connection,
    versions: str | None,
    tables: frozenset[str],
    views: list[str],
    has_version_table: bool,
    malformed: bool,
) -> Probe:
    ours = tables & (ALL_TABLES | {VERSION_TABLE})
    others = tables - ours

    def foreign(detail: str) -> Probe:
        skillmeat = _looks_like_skillmeat(conn, versions, tables)
        return Probe(Kind.FOREIGN, versions, tables=tables, detail=detail, skillmeat=skillmeat)

    if malformed:
        return foreign(f"its {VERSION_TABLE} table has no version_num column")
    if views:
        return foreign(f"it holds views, which skillmeat-ls never creates: {_names(views)}")
    if versions:
        if versions not in REVISIONS:
            return foreign(
                f"it is at revision {versions!r}, which this version of skillmeat-ls does not "
                f"know (head is {HEAD!r})"
            )
        if others:
            return foreign(
                f"it is stamped {versions!r} but holds tables skillmeat-ls never creates: "
                f"{_names(others)}"
            )
        if versions == HEAD and ours == ALL_TABLES | {VERSION_TABLE}:
            return Probe(Kind.AT_HEAD, HEAD, tables=tables)
        return Probe(Kind.KNOWN, versions, tables=tables)
    if not tables - {VERSION_TABLE}:
        return Probe(Kind.EMPTY, tables=tables)
    schema = {name: _columns(conn, name) for name in tables - {VERSION_TABLE}}
    for revision in REVISIONS:
        if schema == SCHEMAS[revision]:
            return Probe(Kind.UNTRACKED, adopt_as=revision, tables=tables)
    state = "an empty alembic_version" if has_version_table else "no alembic_version"
    return foreign(
        f"it has {state}, and its tables and columns are not those of any skillmeat-ls "
        f"revision: {_difference(schema)}"
    )


def _columns(conn: sqlite3.Connection, table: str) -> frozenset[str]:
    try:
        return frozenset(row[1] for row in conn.execute(f"PRAGMA table_info({_quote(table)})"))
    except sqlite3.OperationalError:  # e.g. a virtual table whose module is not available
        return frozenset({"?"})


def _difference(schema: dict[str, frozenset[str]]) -> str:
    """How ``schema`` differs from the revision it is closest to, in a few words."""

    def distance(revision: str) -> int:
        expected = SCHEMAS[revision]
        names = set(schema) ^ set(expected)
        columns = sum(len(schema[name] ^ expected[name]) for name in set(schema) & set(expected))
        return 100 * len(names) + columns

    closest = min(reversed(REVISIONS), key=distance)
    expected = SCHEMAS[closest]
    parts = []
    if extra := set(schema) - set(expected):
        parts.append(f"it also has {_names(extra)}")
    if missing := set(expected) - set(schema):
        parts.append(f"it has no {_names(missing)}")
    for name in sorted(set(schema) & set(expected)):
        if more := schema[name] - expected[name]:
            parts.append(f"{name} has other columns {_names(more)}")
        if fewer := expected[name] - schema[name]:
            parts.append(f"{name} lacks {_names(fewer)}")
    return f"closest to {closest}, but " + "; ".join(parts)


def _looks_like_skillmeat(
    conn: sqlite3.Connection, versions: str | None, tables: frozenset[str]
) -> bool:
    if tables & SKILLMEAT_TABLES:
        return True
    if versions and versions not in REVISIONS and _SKILLMEAT_REVISION.match(versions):
        return True
    base = SCHEMAS[REVISIONS[0]]
    if not set(base) <= tables:
        return False
    # SkillMeat's base tables carry many more columns than ours (uuid, owner_id, visibility, ...).
    return any(len(_columns(conn, name) - base[name]) >= 3 for name in ("projects", "artifacts"))


def _tables_summary(found: Probe) -> str:
    """``109 tables, among them marketplace, tags, …``: SkillMeat's best-known tables first."""
    others = found.tables - ALL_TABLES - {VERSION_TABLE}
    known = sorted(others & SKILLMEAT_TABLES)
    shown = (known + sorted(others - SKILLMEAT_TABLES))[:_LISTED] or sorted(found.tables)[:_LISTED]
    more = ", …" if len(others) > len(shown) else ""
    return f"{len(found.tables)} tables, among them {', '.join(shown)}{more}"


def _names(names: set[str] | frozenset[str] | list[str]) -> str:
    ordered = sorted(names)
    shown = ", ".join(ordered[:_LISTED])
    return shown + (f", … ({len(ordered)} in all)" if len(ordered) > _LISTED else "")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
