"""The project a request works on: its profile root, its deployment file, and the lock on both.

Which file: ``<root>/.skillmeat-deployed.toml`` when it exists (it is the file SkillMeat reads,
so it wins when ``deployment.toml`` exists too); else an existing ``.claude/deployment.toml`` is
updated in place; else ``.skillmeat-deployed.toml`` is created. Which root: the profile's own,
unless only an older root of the same profile has a file (:func:`profile_root`).

:func:`load` reads the file (migrating a legacy or mixed one losslessly in memory) into a
:class:`LoadedProject`; :func:`locked` does so under SkillMeat's own lock of the file, held until
the request ends, once it has recovered what an interrupted request left in the root
(:mod:`.recovery`), and :meth:`LoadedProject.replace_file` writes the new text only if nobody
changed the file since it was read. :func:`recover` is that recovery on its own, taking the lock
only when the root holds something to recover; :func:`recover_project` runs it on each root of a
project.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from skillmeat_ls.deploy.fileops import FileOps
from skillmeat_ls.deploy.journal import JOURNAL_NAME
from skillmeat_ls.deploy.paths import RealPaths, display, inside, normal_rel
from skillmeat_ls.deploy.recovery import leftovers, recover_locked
from skillmeat_ls.deploy.results import DeployError, RecoveryReport, RequestResult
from skillmeat_ls.deploy.transaction import Transaction, pending_here
from skillmeat_ls.document import Document, parse_document
from skillmeat_ls.locks import LockTimeout, destination_lock
from skillmeat_ls.migration import MigrationError, migrate_text
from skillmeat_ls.profiles import Profile, profile_for_root, resolve_profile
from skillmeat_ls.rules import path_escapes
from skillmeat_ls.schema import CLAUDE_DIR, DEPLOYED_FILE_NAME, PLAN_FILE_NAME, Identity, identity
from skillmeat_ls.workspace import is_profile_root_name, project_files

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

if TYPE_CHECKING:
    from skillmeat_ls.index import Collection

Result = TypeVar("Result", bound=RequestResult)
AnyTransaction = TypeVar("AnyTransaction", bound=Transaction)


def identity_of(name: object, artifact_type: object) -> Identity | None:
    """A record's identity (:func:`skillmeat_ls.schema.identity`), if its name and type are
    strings at all."""
    if isinstance(name, str) and isinstance(artifact_type, str):
        return identity(name, artifact_type)
    return None


@dataclass(frozen=True)
class FileContents:
    """A deployment file as read."""

    raw: bytes  # its bytes, to tell whether someone changed it before it is replaced
    text: str
    unified_text: str  # ``text``, or its migration when the file was legacy (or mixed)
    data: dict[str, Any]  # ``unified_text`` parsed
    records: list[dict[str, Any]]  # the ``[[deployed]]`` records of ``data``
    document: Document  # ``text`` parsed, for drift


@dataclass(frozen=True)
class LoadedProject:
    """One request's view of a project: the profile root it works in, the deployment file there
    as read, and how the request changes files."""

    root: Path  # <real project>/<profile root>, e.g. .claude or .agents
    profile: Profile
    file: Path  # the deployment file to update or create (real path)
    shown_file: Path  # the same under the project as the caller named it (for results)
    contents: FileContents | None  # None: there is no deployment file yet
    file_ops: FileOps
    by_identity: dict[Identity, dict[str, Any]] = field(default_factory=dict)  # first record wins
    by_path: dict[str, Identity] = field(default_factory=dict)  # normalised artifact_path
    real_paths: RealPaths = field(default_factory=RealPaths)
    lease: contextlib.ExitStack | None = None  # what :func:`locked` holds (the file's lock)
    recovered: RecoveryReport | None = None  # what recovery did before the file was read

    @property
    def exists(self) -> bool:
        return self.contents is not None

    @property
    def records(self) -> list[dict[str, Any]]:
        """The unified records of the file, in file order."""
        return self.contents.records if self.contents is not None else []

    @property
    def document(self) -> Document | None:
        return self.contents.document if self.contents is not None else None

    @property
    def file_label(self) -> str:
        return f"{self.root.name}/{self.file.name}"

    def display(self, rel: str | None) -> str:
        return display(self.root, rel)

    def real_root_of(self, collection: Collection) -> str:
        """The real path of a collection's folder."""
        return self.real_paths.folder(collection.path)

    def start_result(self, kind: type[Result], *, dry_run: bool) -> Result:
        """An empty result of this request, placed in its profile and root."""
        return kind(
            file=self.shown_file if self.exists else None,
            profile=self.profile.id,
            root=self.root.name,
            dry_run=dry_run,
            recovered=self.recovered,
        )

    def transaction(self, operation: str) -> Transaction:
        """A transaction of this request in its profile root (``operation``: deploy, ...)."""
        return self.transaction_of(Transaction, operation)

    def transaction_of(self, kind: type[AnyTransaction], operation: str) -> AnyTransaction:
        """:meth:`transaction`, of the class ``kind`` (a pull's changes its collection too)."""
        raw = self.contents.raw if self.contents is not None else None
        return kind(self.root, self.file_ops, operation, self.file, raw)

    def replace_file(self, text: str) -> None:
        """Replace the deployment file with ``text``, unless another program changed it since
        it was read (then nothing is written and the request is rolled back)."""
        try:
            current = Path(os.path.realpath(self.file)).read_bytes()
        except FileNotFoundError:
            current = None
        if current != (self.contents.raw if self.contents is not None else None):
            raise RuntimeError(f"{self.file_label} was changed by another program meanwhile")
        self.file_ops.write_text(self.file, text)


def _choose_file(root: Path) -> Path:
    deployed = root / DEPLOYED_FILE_NAME
    plan = root / PLAN_FILE_NAME
    if root.name == CLAUDE_DIR and not os.path.lexists(deployed) and os.path.lexists(plan):
        return plan
    return deployed


def profile_root(project: Path, profile: Profile) -> Path:
    """The profile root a request for ``profile`` works in: the profile's own root, unless the
    project has no file there but an existing root that belongs to the profile (``.codex``, the
    codex root of releases before 0.74.0)."""
    own = Path(project) / profile.root_dir
    if os.path.lexists(_choose_file(own)):
        return own
    for file in project_files(Path(project)):
        if profile_for_root(file.parent.name).id == profile.id and file.parent != own:
            return file.parent
    return own


def deployment_file(project: Path, profile: Profile | None = None) -> Path | None:
    """The deployment file a request on ``project`` (for ``profile``, default ``claude_code``)
    reads and updates, if one exists.

    ``.claude/.skillmeat-deployed.toml`` (the file SkillMeat reads) wins over
    ``.claude/deployment.toml`` when both exist.
    """
    chosen = _choose_file(profile_root(Path(project), profile or resolve_profile(None)))
    return chosen if os.path.lexists(chosen) else None


def load(
    project: Path | str,
    profile: Profile | None = None,
    *,
    file_ops: FileOps | None = None,
) -> LoadedProject:
    """``project``'s root for ``profile`` (default ``claude_code``) and its deployment file, as
    they are now; :class:`DeployError` when either is unusable."""
    profile = profile or resolve_profile(None)
    shown_project = Path(project).absolute()
    if not shown_project.is_dir():
        raise DeployError(f"no such project directory: {project}")
    root = profile_root(Path(os.path.realpath(shown_project)), profile)
    shown_root = shown_project / root.name
    if os.path.lexists(root):
        real = os.path.realpath(root)
        if real != str(root):
            raise DeployError(
                f"{shown_root} is a symlink to {real}: refused, skillmeat-ls writes "
                f"only inside the project's own {root.name}/ directory"
            )
        if not root.is_dir():
            raise DeployError(f"{shown_root} is not a directory")
    file = _choose_file(root)
    shown_file = shown_root / file.name
    contents = _read(file, shown_file, root) if os.path.lexists(file) else None
    loaded = LoadedProject(
        root,
        profile,
        file,
        shown_file,
        contents,
        file_ops if file_ops is not None else FileOps(),
    )
    for record in loaded.records:
        found = identity_of(record.get("artifact_name"), record.get("artifact_type"))
        if found is not None:
            loaded.by_identity.setdefault(found, record)
            path = record.get("artifact_path")
            if isinstance(path, str) and not path_escapes(path):
                loaded.by_path.setdefault(normal_rel(path), found)
    return loaded


def _read(file: Path, shown_file: Path, root: Path) -> FileContents:
    real = os.path.realpath(file)
    if not inside(real, str(root)) or real == str(root):
        raise DeployError(f"{shown_file} is a symlink to {real}, outside {root.name}/: refused")
    try:
        raw = Path(real).read_bytes()
    except OSError as exc:
        raise DeployError(f"cannot read {shown_file}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DeployError(f"{shown_file} is not UTF-8 text ({exc}); nothing changed") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeployError(
            f"{shown_file}: invalid TOML ({exc}); fix it first (skillmeat-ls check), nothing "
            "changed"
        ) from exc
    unified_text = text
    if "deployment" in data or "artifacts" in data:
        try:
            unified_text = migrate_text(text)
        except MigrationError as exc:
            raise DeployError(f"{shown_file}: {exc.message}") from exc
        data = tomllib.loads(unified_text)
    records = data.get("deployed", [])
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise DeployError(
            f"{shown_file}: 'deployed' must be an array of tables ([[deployed]]); nothing changed"
        )
    return FileContents(raw, text, unified_text, data, records, parse_document(text))


@contextlib.contextmanager
def locked(
    project: Path | str,
    profile: Profile | None,
    *,
    dry_run: bool,
    file_ops: FileOps | None = None,
) -> Iterator[LoadedProject]:
    """The project, read under SkillMeat's lock of its deployment file, held until the request
    ends: a ``skillmeat deploy`` at the same moment waits, and nothing it wrote before is lost
    (the file is read again once the lock is held). First, what an interrupted request left in
    the root is completed or undone (:func:`~.recovery.recover_locked`). A dry run takes no
    lock, except to recover (:func:`recover`)."""
    first = load(project, profile, file_ops=file_ops)
    if dry_run:
        recovered = recover(first.root, file_ops=first.file_ops)
        again = load(project, first.profile, file_ops=first.file_ops) if recovered else first
        yield replace(again, recovered=recovered)
        return
    if pending_here(first.root):
        raise DeployError(
            f"a deployment into {first.root.name}/ is waiting for the editor to record it: try "
            "again once it is done; nothing changed"
        )
    with contextlib.ExitStack() as held:
        try:
            if not os.path.lexists(first.root):
                first.file_ops.make_folder(first.root)
                held.callback(first.file_ops.remove_if_only_locks, first.root)
            held.enter_context(destination_lock(first.file))
        except LockTimeout as exc:
            raise DeployError(f"{exc}; nothing changed") from None
        except OSError as exc:
            raise DeployError(
                f"cannot lock {first.shown_file}: {exc.strerror or exc}; nothing changed"
            ) from exc
        recovered = recover_locked(first.root, first.file_ops)
        loaded = load(project, first.profile, file_ops=first.file_ops)
        yield replace(loaded, lease=held, recovered=recovered)


def recover(root: Path | str, *, file_ops: FileOps | None = None) -> RecoveryReport | None:
    """Complete or undo what a request interrupted by a crash left in the profile root ``root``
    (``<project>/.claude``, ...), then remove stale staging folders (the rule is
    :mod:`.recovery`'s); what was found and done, or None when there was nothing, which one
    ``scandir`` of the root tells.

    Takes the root's deployment-file lock only when there is something: waiting for it (as long
    as SkillMeat waits) when there is a journal, not at all when there are only staging folders
    (a request holding the lock is running, and they are its own). Do not call it while holding
    that lock: the requests recover as they take it (a root held by a :class:`~.transaction.Pending`
    of this process is left alone). :class:`DeployError` when a journal is not
    acted on, cannot be carried out (a read-only checkout: the message names the interrupted
    request instead), or a running request holds the lock too long."""
    root = Path(root)
    if os.path.islink(root):
        return None  # never written through (see load)
    root = Path(os.path.realpath(root.parent)) / root.name
    found = leftovers(root)
    if found is None or pending_here(root):
        return None
    try:
        with destination_lock(_choose_file(root), timeout=None if found.journal else 0):
            return recover_locked(root, file_ops or FileOps())
    except LockTimeout as exc:
        if not found.journal:
            return None
        raise DeployError(
            f"{exc}, which is changing {root.name}/ (see {display(root, JOURNAL_NAME)}): try "
            "again once it is done"
        ) from None
    except OSError as exc:
        if not found.journal:
            return None  # stale staging folders where nothing can be written: left alone
        raise DeployError(
            f"{display(root, JOURNAL_NAME)}: a skillmeat-ls request in {root.name}/ was "
            f"interrupted and cannot be completed or undone here ({exc.strerror or exc}); its "
            "copies and records may disagree until skillmeat-ls runs where it can write"
        ) from exc


def recover_project(
    project: Path | str, profile: Profile | None = None, *, file_ops: FileOps | None = None
) -> list[RecoveryReport]:
    """:func:`recover` each profile root of ``project`` that may hold a journal: ``profile``'s
    (without one: every dot-folder of the project), in name order; what was done in each.
    :class:`DeployError` for a project that is not a directory, or a journal that cannot be
    settled."""
    shown = Path(project).absolute()
    if not shown.is_dir():
        raise DeployError(f"no such project directory: {project}")
    real = Path(os.path.realpath(shown))
    if profile is not None:
        roots = [profile_root(real, profile)]
    else:
        try:
            with os.scandir(real) as entries:
                roots = [
                    real / e.name for e in entries if is_profile_root_name(e.name) and e.is_dir()
                ]
        except OSError:
            roots = []
    reports = (recover(root, file_ops=file_ops) for root in sorted(roots))
    return [report for report in reports if report is not None]
