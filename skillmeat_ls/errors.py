"""The one user-facing error type: every engine error whose message is meant for a person.

A ``UserFacingError`` carries one line naming the place (file, project, collection) and what to do.
It is caught in exactly two places: the CLI's ``main`` (printed, exit 2) and the language server's
command path (``window/showMessage`` plus a ``RequestFailed`` response). Anything else that
escapes is a bug and is reported as one.
"""

from __future__ import annotations


class UserFacingError(Exception):
    """A request that cannot be carried out as asked; ``str(error)`` is shown to the user."""
