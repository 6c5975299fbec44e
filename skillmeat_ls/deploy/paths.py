"""Path safety: which ``artifact_path`` may be touched, and where writing it may reach.

Nothing is written outside ``<project>/<root>/``: an ``artifact_path`` that is absolute, leaves
the profile root or names the root's own dot-files is refused (:func:`checked_rel`); no folder on
the way to a target may be a symlink or a file, and a target that is a symlink must resolve
inside the root (:func:`checked_target`). A refusal is a :class:`~.results.Refused`.
"""

from __future__ import annotations

import os
import posixpath
import stat
from pathlib import Path

from skillmeat_ls.deploy.results import Refused
from skillmeat_ls.rules import path_escapes


def inside(real: str, root: str) -> bool:
    """True if the real path ``real`` is ``root`` or below it."""
    return real == root or real.startswith(root.rstrip(os.sep) + os.sep)


def normal_rel(path: str) -> str:
    """A relative path in one spelling (``/`` separators, no ``.`` or doubled separators)."""
    return posixpath.normpath(path.replace("\\", "/"))


def display(root: Path, rel: str | None) -> str:
    """``rel`` as messages show it: under the profile root's name (``.claude/skills/x``)."""
    return f"{root.name}/{rel}" if rel else root.name


def checked_rel(path: object) -> str:
    """``artifact_path`` normalised, or :class:`Refused` when it must not be touched."""
    if not isinstance(path, str) or not path:
        raise Refused("the record has no artifact_path: refused")
    if path_escapes(path):
        raise Refused(
            f"artifact_path {path!r} is absolute or leaves the profile root: refused", path
        )
    rel = normal_rel(path)
    if rel in (".", "") or rel.split("/", 1)[0].startswith("."):
        raise Refused(
            f"artifact_path {path!r} names the profile root itself or its own files: refused",
            path,
        )
    return rel


def checked_target(root: Path, rel: str) -> Path:
    """``<root>/rel``, provided writing there cannot reach outside the profile root ``root``."""
    return checked_target_present(root, rel)[0]


def checked_target_present(root: Path, rel: str) -> tuple[Path, bool]:
    """:func:`checked_target`, and whether something is there (``os.path.lexists``)."""
    parts = rel.split("/")
    current = os.fspath(root)
    for depth, part in enumerate(parts[:-1]):
        current = os.path.join(current, part)
        try:
            mode = os.lstat(current).st_mode
        except OSError:
            return root.joinpath(*parts), False  # a folder on the way is missing: created later
        if stat.S_ISLNK(mode):
            raise Refused(
                f"{display(root, _shown(root, parts[: depth + 1]))} is a "
                f"symlink: refused (writes stay inside {root.name}/)",
                rel,
            )
        if not stat.S_ISDIR(mode):
            raise Refused(
                f"{display(root, _shown(root, parts[: depth + 1]))} is a file, not a folder", rel
            )
    target = root.joinpath(*parts)
    try:
        mode = os.lstat(target).st_mode
    except OSError:
        return target, False
    if stat.S_ISLNK(mode):
        real = os.path.realpath(target)
        if not inside(real, str(root)) or real == str(root):
            raise Refused(
                f"{display(root, rel)} is a symlink to {real}, outside {root.name}/: refused", rel
            )
    return target, True


def _shown(root: Path, parts: list[str]) -> str:
    return str(root.joinpath(*parts).relative_to(root))


class RealPaths:
    """``os.path.realpath`` for one request, resolving each folder once: deploying 200 artifacts
    of one collection resolves the collection's folders once, not 200 times."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def of(self, path: Path) -> str:
        """``os.path.realpath(path)``, its parent folder resolved once per request."""
        return self.resolved(path)[0]

    def resolved(self, path: Path) -> tuple[str, int | None]:
        """:meth:`of`, and the ``st_mode`` of what it names when ``path`` itself is no symlink
        (None when it is one, or cannot be looked at)."""
        parent, name = os.path.split(os.fspath(path))
        if name in ("", ".", ".."):
            return os.path.realpath(path), None
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            return os.path.join(self._real(parent), name), None
        if stat.S_ISLNK(mode):
            return os.path.realpath(path), None
        return os.path.join(self._real(parent), name), mode

    def folder(self, folder: Path) -> str:
        """The real path of ``folder``, resolved once per request."""
        return self._real(os.fspath(folder))

    def _real(self, folder: str) -> str:
        real = self._folders.get(folder)
        if real is None:
            real = self._folders[folder] = os.path.realpath(folder)
        return real
