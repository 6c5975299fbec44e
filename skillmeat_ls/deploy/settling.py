"""Settling many profile roots at once, before they are read: what ``check`` and the language
server do first (SPEC §6: the next skillmeat-ls that reads a project completes or undoes what an
interrupted request left there).

:func:`settle` runs :func:`~.project.recover` on each root and sorts the outcome: a message for
each recovery done, and the roots where the interrupted request could not be settled (a
read-only checkout, a hostile journal), with why — their records are a half state, so their
files are reported instead of analysed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from skillmeat_ls.deploy.project import recover
from skillmeat_ls.deploy.results import DeployError


@dataclass
class Settled:
    """What :func:`settle` did: ``done`` one message per root recovered; ``unsettled`` the roots
    it could not settle, with why."""

    done: list[str] = field(default_factory=list)
    unsettled: dict[Path, str] = field(default_factory=dict)


def settle(roots: Iterable[Path]) -> Settled:
    """Recover each profile root of ``roots`` (cheap where nothing was interrupted: one
    ``scandir``)."""
    settled = Settled()
    for root in sorted(set(roots)):
        try:
            report = recover(root)
        except DeployError as exc:
            settled.unsettled[root] = str(exc)
            continue
        if report is not None:
            settled.done.append(report.message)
    return settled
