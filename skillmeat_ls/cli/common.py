"""What the ``skillmeat-ls`` sub-commands share: exit statuses, the user's error, wording."""

from __future__ import annotations

from skillmeat_ls.errors import UserFacingError

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class UserError(UserFacingError):
    """A problem the user can fix (bad path, bad argument): printed as one line, exit 2."""


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"

