"""Each record's drift state (:func:`status`): in-sync, modified, update-available, conflict,
missing or unknown, as the diagnostics judge it (:func:`skillmeat_ls.rules.drift_state`), with a
message for the user. What an interrupted request left is recovered first, never analysed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.deploy.fileops import FileOps
from skillmeat_ls.deploy.paths import checked_rel
from skillmeat_ls.deploy.project import LoadedProject, identity_of, load, recover_project
from skillmeat_ls.deploy.results import RecordStatus, RecoveryReport, Refused
from skillmeat_ls.document import Document, Record, derived_path
from skillmeat_ls.profiles import DEFAULT_PROFILE_ID, Profile, profile_for_root
from skillmeat_ls.rules import Context, drift_state
from skillmeat_ls.schema import DEPLOYED_FILE_NAME, HASH_RE, Identity, canonical_type
from skillmeat_ls.workspace import DiskProbe, project_files

if TYPE_CHECKING:
    from skillmeat_ls.index import CollectionIndex


def drift_context(loaded: LoadedProject, index: CollectionIndex | None) -> Context:
    """What :func:`record_status` judges the records of ``loaded`` against."""
    return Context(file_path=loaded.file, collections=index, disk=DiskProbe())


def status(
    project: Path | str,
    index: CollectionIndex | None,
    profile: Profile | None = None,
    *,
    file_ops: FileOps | None = None,
    on_recovery: Callable[[RecoveryReport], object] | None = None,
) -> list[RecordStatus]:
    """The drift state of every record of ``project``'s deployment file for ``profile``, in file
    order; without ``profile``, of every profile root's file (``.claude`` first).

    First, each of those roots is recovered (:func:`~.project.recover_project`, through
    ``file_ops``), and ``on_recovery`` is given each report; :class:`DeployError` when an
    interrupted request there cannot be recovered. ``index`` should be read after that (a
    recovered pull changes its collection): the command line recovers first, then reads it."""
    shown = Path(project).absolute()
    for report in recover_project(project, profile, file_ops=file_ops):
        if on_recovery is not None:
            on_recovery(report)
    if profile is not None:
        roots = [load(project, profile)]
    else:
        names = dict.fromkeys(f.parent.name for f in project_files(shown))
        roots = [load(project, profile_for_root(name, project=shown)) for name in names]
    found: list[RecordStatus] = []
    for loaded in roots:
        if loaded.document is not None:
            context = drift_context(loaded, index)
            found.extend(
                record_status(loaded, loaded.document, record, context)
                for record in loaded.document.records
            )
    return found


def _unknown_reason(record: Record, here: str) -> str:
    root = record.text("profile_root_dir")
    if root and root != here:
        return f"recorded for {root}/ but listed in {here}/{DEPLOYED_FILE_NAME}"
    recorded = record.content_hash
    if recorded is None or not HASH_RE.fullmatch(recorded):
        return "the recorded content_hash is not a SHA-256 hash"
    return "cannot be judged"


def record_status(
    loaded: LoadedProject, document: Document, record: Record, context: Context
) -> RecordStatus:
    """The drift state of ``record`` of ``document`` (the deployment file of ``loaded``)."""
    collection = document.collection_of(record)[0] or None
    path = derived_path(record)
    profile = record.text("deployment_profile_id") or DEFAULT_PROFILE_ID
    root = loaded.root.name

    def unknown(reason: str) -> RecordStatus:
        return RecordStatus(
            record.name,
            record.type,
            collection,
            path,
            "unknown",
            record.content_hash,
            None,
            None,
            reason,
            profile=profile,
            root=root,
        )

    try:
        checked_rel(path)
    except Refused as exc:  # never read through a path that update and undeploy refuse
        return unknown(exc.message)
    drift = drift_state(document, record, context)
    if drift is None:
        return unknown(_unknown_reason(record, root))
    message = drift.message
    if drift.state == "missing":
        message = f"{root}/{path} does not exist"
    elif drift.state == "in-sync":
        message = "matches its record"
    index = context.collections
    if index is not None and collection is not None:
        held = index.get(collection)
        if held is None:
            message += f"; collection {collection!r} is unknown"
        elif (
            record.name and record.type and not held.find(record.name, canonical_type(record.type))
        ):
            message += f"; collection {collection!r} no longer has it"
    return RecordStatus(
        record.name,
        record.type,
        collection,
        path,
        drift.state,
        drift.recorded,
        drift.project_hash,
        drift.collection_hash,
        message,
        profile=profile,
        root=root,
    )


class RecordDrift:
    """The drift state of the records of a request's file as read, judged once per request
    (update, keep-local and pull decide by it)."""

    def __init__(self, loaded: LoadedProject, index: CollectionIndex | None) -> None:
        self._loaded = loaded
        self._context = drift_context(loaded, index)
        self._records: dict[Identity, Record] = {}  # the first record of each identity
        for record in loaded.document.records if loaded.document is not None else ():
            found = identity_of(record.name, record.type)
            if found is not None:
                self._records.setdefault(found, record)

    def of(self, wanted: Identity) -> RecordStatus | None:
        """The drift state of the record of ``wanted``, if the file as read has one."""
        record = self._records.get(wanted)
        if record is None or self._loaded.document is None:
            return None
        return record_status(self._loaded, self._loaded.document, record, self._context)
