"""Removing a deployed artifact: its copy inside the profile root and its record (:func:`undeploy`).

One atomic step, journalled like a deploy (:mod:`.transaction`): the copy is moved aside into the
staging folder, the deployment file rewritten without the record, then the copy deleted with the
staging folder; if the file cannot be written, or the process dies first, the copy is moved back.
"""

from __future__ import annotations

import os
from pathlib import Path

from skillmeat_ls.deploy.fileops import FileOps
from skillmeat_ls.deploy.paths import checked_rel, checked_target
from skillmeat_ls.deploy.project import locked
from skillmeat_ls.deploy.records import new_text, recorded_hash, recorded_text
from skillmeat_ls.deploy.results import (
    Refused,
    RemovalError,
    RemovedItem,
    UndeployResult,
    describe,
)
from skillmeat_ls.deploy.transaction import summary
from skillmeat_ls.profiles import Profile
from skillmeat_ls.schema import identity


def undeploy(
    project: Path | str,
    name: str,
    artifact_type: str,
    *,
    dry_run: bool = False,
    profile: Profile | None = None,
    file_ops: FileOps | None = None,
) -> UndeployResult:
    """Remove the recorded ``(name, type)`` of ``profile``: its copy inside the profile root and
    its record, as one atomic step (the copy is moved aside, the file rewritten, then the copy
    deleted). ``file_ops`` does the file-system steps (see :class:`.FileOps`)."""
    with locked(project, profile, dry_run=dry_run, file_ops=file_ops) as loaded:
        result = loaded.start_result(UndeployResult, dry_run=dry_run)
        wanted = identity(name, artifact_type)
        record = loaded.by_identity.get(wanted)
        collection = recorded_text(record, "from_collection")
        path = recorded_text(record, "artifact_path")
        try:
            if record is None:
                raise Refused(f"no {artifact_type} {name!r} is recorded in {loaded.file_label}")
            rel = checked_rel(path)
            target = checked_target(loaded.root, rel)
        except Refused as exc:
            result.errors.append(exc.item(name, artifact_type, path, collection))
            return result
        removed = RemovedItem(
            name,
            artifact_type,
            rel,
            collection,
            content_hash=recorded_hash(record),
            missing=not os.path.lexists(target),
        )
        if dry_run:
            result.removed.append(removed)
            return result

        transaction = loaded.transaction("undeploy")

        def steps(_staging: Path) -> str:
            text = new_text(loaded, {wanted: None})
            transaction.intend([] if removed.missing else [(rel, None)], text)
            if not removed.missing:
                transaction.swap(0)
            return text

        failure = transaction.run(steps, loaded.replace_file)
        if failure is None:
            result.removed.append(removed)
            return result
        undo = (
            f"; undoing it failed ({summary(failure.undo_problems)}): the copy is kept in "
            f"{transaction.staging}, and the next skillmeat-ls request puts it back"
            if failure.undo_problems
            else "; nothing was changed"
        )
        result.errors.append(
            RemovalError(
                name,
                artifact_type,
                rel,
                collection,
                message=f"{describe(failure.error)}{undo}",
                content_hash=removed.content_hash,
            )
        )
        return result
