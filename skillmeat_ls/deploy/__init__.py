"""Deploying artifacts from a collection into a project, drift status, update and undeploy.

This package owns every change skillmeat-ls makes to a project's profile roots (``.claude/`` for
the default ``claude_code`` profile, ``.agents/`` for ``codex``, ...; see :mod:`profiles`):
copying artifacts from a chosen collection to where SkillMeat 0.74.0 puts them for that profile
and recording them in that root's deployment file with the profile keys
(:func:`deploy`), re-deploying from a record's own collection (:func:`update`), removing a copy
and its record (:func:`undeploy`), and reporting each record's drift state (:func:`status`).
Plain functions, no protocol: the language server and the CLI turn the results into JSON with
``as_dict()``.

Every write holds SkillMeat's own lock on the deployment file (:mod:`skillmeat_ls.locks`) from
the moment the file is read to the end of the request, and the lock of each destination while it
is swapped. Each request (one call) is all or nothing: the files and the record always agree.

The modules, from the bottom up:

- :mod:`.results`: the result types (items are frozen dataclasses; JSON only in ``as_dict()``);
- :mod:`.fileops`: :class:`FileOps`, the seam every file-system change goes through;
- :mod:`.paths`: path safety (nothing is written outside ``<project>/<root>/``);
- :mod:`.project`: the profile root, the deployment file, reading it under its lock;
- :mod:`.copyplan`: what copying one artifact means (skip list, symlinks, hash);
- :mod:`.transaction`: staging, swaps, rollback;
- :mod:`.records`: the records written and the new text of the deployment file;
- :mod:`.names`: ``NAME[:TYPE]`` as the command line gives it;
- :mod:`.execution`: checking planned items, then the all-or-nothing step;
- :mod:`.deploying`, :mod:`.updating`, :mod:`.undeploying`, :mod:`.drift`: the operations.
"""

from __future__ import annotations

from skillmeat_ls.deploy.copyplan import SKIP_PATTERNS
from skillmeat_ls.deploy.deploying import deploy
from skillmeat_ls.deploy.drift import status
from skillmeat_ls.deploy.fileops import FileOps, Hasher
from skillmeat_ls.deploy.names import resolve_recorded, resolve_request
from skillmeat_ls.deploy.project import RecordWriter, deployment_file, profile_root
from skillmeat_ls.deploy.results import (
    CONFLICT_CODES,
    DeployedItem,
    DeployError,
    DeployResult,
    ErrorItem,
    RecordStatus,
    RemovalError,
    RemovedItem,
    ResultItem,
    SkippedItem,
    UndeployResult,
)
from skillmeat_ls.deploy.transaction import STAGING_PREFIX
from skillmeat_ls.deploy.undeploying import undeploy
from skillmeat_ls.deploy.updating import update, update_many

__all__ = [
    "CONFLICT_CODES",
    "SKIP_PATTERNS",
    "STAGING_PREFIX",
    "DeployError",
    "DeployResult",
    "DeployedItem",
    "ErrorItem",
    "FileOps",
    "Hasher",
    "RecordStatus",
    "RecordWriter",
    "RemovalError",
    "RemovedItem",
    "ResultItem",
    "SkippedItem",
    "UndeployResult",
    "deploy",
    "deployment_file",
    "profile_root",
    "resolve_recorded",
    "resolve_request",
    "status",
    "undeploy",
    "update",
    "update_many",
]
