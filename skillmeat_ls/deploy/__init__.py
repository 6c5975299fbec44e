"""Deploying artifacts from a collection into a project, drift status, update, undeploy,
keep-local and pull.

This package owns every change skillmeat-ls makes to a project's profile roots (``.claude/`` for
the default ``claude_code`` profile, ``.agents/`` for ``codex``, ...; see :mod:`profiles`), and
to a collection when a project copy is pulled back into it:
copying artifacts from a chosen collection to where SkillMeat 0.74.0 puts them for that profile
and recording them in that root's deployment file with the profile keys
(:func:`deploy`), re-deploying from a record's own collection (:func:`update`), removing a copy
and its record (:func:`undeploy`), recording a local copy as its record's baseline
(:func:`keep_local`), pulling a local copy back into its collection (:func:`pull`), and
reporting each record's drift state (:func:`status`).
Plain functions, no protocol: the language server and the CLI turn the results into JSON with
``as_dict()``.

Every write holds SkillMeat's own lock on the deployment file (:mod:`skillmeat_ls.locks`) from
the moment the file is read to the end of the request, and the lock of each destination while it
is swapped (for a pull, also SkillMeat's locks in the collection: :mod:`.collectionside`). Each
request (one call) is all or nothing: the files and the record always agree, even when the
process is killed: what a request is about to change is journalled in the profile root first (a
pull's changes in its collection too), and the next request, :func:`status` or :func:`recover`
completes or undoes it (:mod:`.recovery`). ``hold_record=True`` stops a deploy, update,
keep-local or pull before it writes the deployment file, for an editor to write it
(:class:`Pending`).

The modules, from the bottom up:

- :mod:`.results`: the result types (items are frozen dataclasses; JSON only in ``as_dict()``);
- :mod:`.fileops`: :class:`FileOps`, the seam every file-system change goes through;
- :mod:`.paths`: path safety (nothing is written outside ``<project>/<root>/``);
- :mod:`.journal`: the journal's format (a pull's collection part too), and reading one back
  without trusting it;
- :mod:`.transaction`: staging, journalled swaps, undoing them, a request held for the editor;
- :mod:`.lockfile`: a collection's ``collection.lock`` as SkillMeat reads and rewrites it;
- :mod:`.collectionside`: what a pull changes in its collection, finishing or undoing it;
- :mod:`.recovery`: the recovery rule for a journal found in a root, sweeping stale staging;
- :mod:`.project`: the profile root, the deployment file, reading it under its lock (after
  recovering the root), :func:`recover`;
- :mod:`.copyplan`: what copying one artifact means (skip list, symlinks, hash; verbatim for a
  pull);
- :mod:`.records`: the records written and the new text of the deployment file;
- :mod:`.names`: ``NAME[:TYPE]`` as the command line gives it;
- :mod:`.execution`: checking planned items, then the all-or-nothing step;
- :mod:`.deploying`, :mod:`.updating`, :mod:`.undeploying`, :mod:`.keeping`, :mod:`.pulling`,
  :mod:`.drift`: the operations.
"""

from __future__ import annotations

from skillmeat_ls.deploy.copyplan import SKIP_PATTERNS
from skillmeat_ls.deploy.deploying import deploy
from skillmeat_ls.deploy.drift import status
from skillmeat_ls.deploy.fileops import FileOps, Hasher, file_ops_from_environment
from skillmeat_ls.deploy.journal import JOURNAL_NAME, STAGING_PREFIX
from skillmeat_ls.deploy.keeping import keep_local, keep_local_many
from skillmeat_ls.deploy.names import resolve_recorded, resolve_request
from skillmeat_ls.deploy.project import (
    deployment_file,
    profile_root,
    recover,
    recover_project,
)
from skillmeat_ls.deploy.pulling import STRATEGIES, pull
from skillmeat_ls.deploy.results import (
    CONFLICT_CODES,
    DeployedItem,
    DeployError,
    DeployResult,
    ErrorItem,
    KeepLocalResult,
    KeptItem,
    PulledItem,
    PullResult,
    RecordStatus,
    RecoveryReport,
    RemovalError,
    RemovedItem,
    ResultItem,
    SkippedItem,
    UndeployResult,
)
from skillmeat_ls.deploy.transaction import Pending
from skillmeat_ls.deploy.undeploying import undeploy
from skillmeat_ls.deploy.updating import update, update_many

__all__ = [
    "CONFLICT_CODES",
    "JOURNAL_NAME",
    "SKIP_PATTERNS",
    "STAGING_PREFIX",
    "STRATEGIES",
    "DeployError",
    "DeployResult",
    "DeployedItem",
    "ErrorItem",
    "FileOps",
    "Hasher",
    "KeepLocalResult",
    "KeptItem",
    "Pending",
    "PullResult",
    "PulledItem",
    "RecordStatus",
    "RecoveryReport",
    "RemovalError",
    "RemovedItem",
    "ResultItem",
    "SkippedItem",
    "UndeployResult",
    "deploy",
    "deployment_file",
    "file_ops_from_environment",
    "keep_local",
    "keep_local_many",
    "profile_root",
    "pull",
    "recover",
    "recover_project",
    "resolve_recorded",
    "resolve_request",
    "status",
    "undeploy",
    "update",
    "update_many",
]
