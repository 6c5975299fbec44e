"""What a deploy, update, undeploy, keep-local, pull or status request reports, and the exceptions
that become it.

Result items are frozen dataclasses held in typed lists; they turn into JSON only in
``as_dict()``, the one place where the wire format (the CLI's ``--format json``, the server's
command results) is spelt out. Every item has ``name``, ``type``, ``path`` (``artifact_path``,
relative to the profile root; None when no path could be derived) and ``collection``, in that
order, then keys of its own.

While a request is planned, an item that must not go ahead raises :class:`Refused` (it becomes an
:class:`ErrorItem` and stops the whole request) or :class:`Skipped` (a :class:`SkippedItem`; the
other items go on). :class:`DeployError` is for a request that cannot be carried out at all.
:class:`RecoveryReport` says what was found and done about a request a crash interrupted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from skillmeat_ls.errors import UserFacingError
from skillmeat_ls.profiles import DEFAULT_PROFILE_ID
from skillmeat_ls.schema import CLAUDE_DIR

if TYPE_CHECKING:
    from skillmeat_ls.deploy.transaction import Pending

#: ``skipped`` codes that mean "your changes were protected" (the CLI exits 1 on them).
CONFLICT_CODES = frozenset({"local-modifications", "untracked", "conflict", "unknown-state"})


class DeployError(UserFacingError):
    """A request that cannot be carried out at all (bad project, unreadable deployment file,
    ambiguous or unknown name). Its message is one line meant for the user."""


# --- result items --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultItem:
    """The artifact an item is about; the base of every item kind."""

    name: str
    type: str
    path: str | None
    collection: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "path": self.path,
            "collection": self.collection,
        }


@dataclass(frozen=True)
class DeployedItem(ResultItem):
    """An artifact copied into the project (or, in a dry run, that would be)."""

    content_hash: str  # of the deployed copy, after the skip list
    replaced_from: str | None  # the collection of the replaced record, when it was another one
    warnings: tuple[str, ...]  # entries of the artifact that were not copied, and why

    def as_dict(self) -> dict[str, Any]:
        return {
            **super().as_dict(),
            "content_hash": self.content_hash,
            "replaced_from": self.replaced_from,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class KeptItem(DeployedItem):
    """A record whose local copy became its baseline (keep-local): ``content_hash`` is the copy's
    hash, now recorded; ``previous_hash`` the baseline it replaced."""

    previous_hash: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            **ResultItem.as_dict(self),
            "content_hash": self.content_hash,
            "previous_hash": self.previous_hash,
        }


@dataclass(frozen=True)
class PulledItem(DeployedItem):
    """A project copy pulled into its collection: at ``collection_path`` (inside the collection
    ``collection``), with ``content_hash``; ``previous_hash`` is the collection copy's hash it
    replaced (None for a fork, which replaces nothing); ``record_updated`` says whether the
    record now has that hash as its baseline (an overwrite) or was left alone (a fork)."""

    strategy: str
    collection_path: str
    previous_hash: str | None
    record_updated: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            **ResultItem.as_dict(self),
            "content_hash": self.content_hash,
            "strategy": self.strategy,
            "collection_path": self.collection_path,
            "previous_hash": self.previous_hash,
            "record_updated": self.record_updated,
        }


@dataclass(frozen=True)
class RemovedItem(ResultItem):
    """A record undeployed, with its copy (``missing``: the copy was already gone)."""

    content_hash: str | None  # as recorded
    missing: bool

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "content_hash": self.content_hash, "missing": self.missing}


@dataclass(frozen=True)
class SkippedItem(ResultItem):
    """An artifact left alone: ``code`` says why (:data:`CONFLICT_CODES`, ``up-to-date``,
    ``aborted``), ``reason`` says it to the user."""

    code: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class ErrorItem(ResultItem):
    """An artifact that was refused, or whose change failed (and was undone)."""

    message: str

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "message": self.message}


@dataclass(frozen=True)
class RemovalError(ErrorItem):
    """An undeploy that failed once under way; like a removed item, it names the recorded hash."""

    content_hash: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            **ResultItem.as_dict(self),
            "content_hash": self.content_hash,
            "message": self.message,
        }


# --- what a planned item raises ------------------------------------------------------------------


class Refused(Exception):
    """An item that must not be deployed (an ``errors`` entry)."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def item(
        self, name: str, artifact_type: str, path: str | None, collection: str | None
    ) -> ErrorItem:
        """The error entry; the path the refusal names wins over the one the caller knew."""
        return ErrorItem(name, artifact_type, self.path or path, collection, self.message)


class Skipped(Exception):
    """An item left alone for a reason of its own (a ``skipped`` entry)."""

    def __init__(self, code: str, reason: str, path: str | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.path = path

    def item(
        self, name: str, artifact_type: str, path: str | None, collection: str | None
    ) -> SkippedItem:
        """The skipped entry; the path the skip names wins over the one the caller knew."""
        return SkippedItem(
            name, artifact_type, self.path or path, collection, self.code, self.reason
        )


def describe(exc: BaseException) -> str:
    """One line for an item's message about a step that failed."""
    if isinstance(exc, Refused):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc) or type(exc).__name__


# --- request results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecoveryReport:
    """What recovery found in a profile root and did (:mod:`.recovery`): the interrupted request
    (``operation``, None when only stale staging folders were found) and its ``outcome``
    ("rolled back" or "rolled forward"), the targets it was changing, the staging folders swept,
    and the collection it changed too (a pull's: an index read before is stale), if any."""

    root: Path
    operation: str | None
    outcome: str | None
    paths: tuple[str, ...]
    swept: tuple[str, ...]
    collection: str | None = None

    @property
    def message(self) -> str:
        """One line for the user."""
        parts = []
        plural = "" if len(self.paths) == 1 else "s"
        request = f"an interrupted {self.operation}" + (
            f" ({len(self.paths)} artifact{plural})" if self.paths else ""
        )
        if self.outcome == "rolled back":
            parts.append(
                f"{request} had not recorded its changes and was undone: its copies and records "
                "are as they were before it"
            )
        elif self.outcome == "rolled forward":
            parts.append(f"{request} had recorded its changes; its clean-up was finished")
        if self.swept:
            folders = "folder" if len(self.swept) == 1 else "folders"
            parts.append(
                f"{len(self.swept)} staging {folders} left by interrupted requests removed"
            )
        return f"{self.root.name}/: " + "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "operation": self.operation,
            "outcome": self.outcome,
            "paths": list(self.paths),
            "swept": list(self.swept),
            "collection": self.collection,
            "message": self.message,
        }


@dataclass
class RequestResult:
    """What one request did: its items skipped and failed, and the file (the items done are the
    subclass's own list, :attr:`done`, listed under :attr:`verb` in ``as_dict()``)."""

    skipped: list[SkippedItem] = field(default_factory=list)
    errors: list[ErrorItem] = field(default_factory=list)
    file: Path | None = None
    dry_run: bool = False
    profile: str = DEFAULT_PROFILE_ID  # the profile the request worked in
    root: str = CLAUDE_DIR  # its profile root; every item's ``path`` is relative to it
    recovered: RecoveryReport | None = None  # an interrupted request recovered first (not JSON)

    #: What the request does to its items, the key of their list in ``as_dict()``.
    verb: ClassVar[str]

    @property
    def done(self) -> Sequence[ResultItem]:
        """The items the request did (or, in a dry run, would do)."""
        raise NotImplementedError

    @property
    def failed(self) -> bool:
        """True if anything errored (the CLI exits 1)."""
        return bool(self.errors)

    def absorb(self, other: RequestResult) -> None:
        """Add what ``other``, a request of the same kind in the same profile, did to this
        result (the CLI runs one request per name and shows them as one)."""
        self.recovered = self.recovered or other.recovered
        self._items().extend(other.done)
        self.skipped.extend(other.skipped)
        self.errors.extend(other.errors)
        self.file, self.root = other.file, other.root

    def _items(self) -> list[Any]:
        """The list behind :attr:`done`."""
        raise NotImplementedError

    def as_dict(self) -> dict[str, Any]:
        return {
            self.verb: [item.as_dict() for item in self.done],
            "skipped": [item.as_dict() for item in self.skipped],
            "errors": [item.as_dict() for item in self.errors],
            "file": str(self.file) if self.file is not None else None,
            "profile": self.profile,
            "root": self.root,
        }


@dataclass
class DeployResult(RequestResult):
    """What a deploy or update request did; ``as_dict()`` is the JSON the server returns.
    ``pending`` (not JSON): with ``hold_record=True``, the request waiting for its deployment
    file to be written (:class:`~.transaction.Pending`)."""

    verb: ClassVar[str] = "deployed"
    deployed: list[DeployedItem] = field(default_factory=list)
    pending: Pending | None = field(default=None, compare=False, repr=False)

    @property
    def done(self) -> Sequence[DeployedItem]:
        return self.deployed

    def _items(self) -> list[Any]:
        return self.deployed

    @property
    def failed(self) -> bool:
        """True if anything errored or was skipped to protect local changes."""
        return bool(self.errors) or any(s.code in CONFLICT_CODES for s in self.skipped)

    def not_recorded(self, reason: str, undo_problems: Sequence[str]) -> DeployResult:
        """This result once its held record was not written (the editor declined the edit, or
        did not answer) and its copies were rolled back: every deployed item becomes an error
        saying so."""
        if undo_problems:
            undo = (
                f"; undoing it failed ({'; '.join(undo_problems)}): the next skillmeat-ls request "
                "puts the previous copies back"
            )
        else:
            undo = "; every change was undone"
        message = f"cannot write {self.file}: {reason}{undo}"
        failed = [ErrorItem(i.name, i.type, i.path, i.collection, message) for i in self.deployed]
        return replace(self, deployed=[], errors=[*self.errors, *failed], pending=None)


@dataclass
class KeepLocalResult(DeployResult):
    """What a keep-local request did (its items are :class:`KeptItem`, in ``deployed``).
    Its ``skipped`` codes: ``not-modified`` (nothing local to keep: the copy matches its record;
    not a failure, as ``up-to-date``), ``missing`` (the copy is gone), ``unknown-state`` (it
    cannot be judged: SM133, say), ``aborted``."""

    verb: ClassVar[str] = "kept"

    @property
    def failed(self) -> bool:
        """True if anything errored or was skipped for another reason than ``not-modified``."""
        return bool(self.errors) or any(s.code != "not-modified" for s in self.skipped)


@dataclass
class PullResult(KeepLocalResult):
    """What a pull request did (its items are :class:`PulledItem`, in ``deployed``)."""

    verb: ClassVar[str] = "pulled"


@dataclass
class UndeployResult(RequestResult):
    """What an undeploy request did; ``as_dict()`` is the JSON the CLI prints."""

    verb: ClassVar[str] = "removed"
    removed: list[RemovedItem] = field(default_factory=list)

    @property
    def done(self) -> Sequence[RemovedItem]:
        return self.removed

    def _items(self) -> list[Any]:
        return self.removed


@dataclass(frozen=True)
class RecordStatus:
    """One record's drift state: in-sync, modified, update-available, conflict, missing, unknown."""

    name: str | None
    type: str | None
    collection: str | None
    path: str | None
    state: str
    recorded_hash: str | None
    project_hash: str | None
    collection_hash: str | None
    message: str
    profile: str = DEFAULT_PROFILE_ID  # SkillMeat's: deployment_profile_id or claude_code
    root: str = CLAUDE_DIR  # the profile root whose file lists the record

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "profile": self.profile,
            "root": self.root,
            "collection": self.collection,
            "path": self.path,
            "state": self.state,
            "content_hash": self.recorded_hash,
            "project_hash": self.project_hash,
            "collection_hash": self.collection_hash,
            "message": self.message,
        }
