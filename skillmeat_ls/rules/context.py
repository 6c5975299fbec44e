"""What the environment rules may consult besides the document: :class:`Context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.workspace import is_deployment_file

if TYPE_CHECKING:
    from skillmeat_ls.index import CollectionIndex
    from skillmeat_ls.rules.settings import RuleSettings
    from skillmeat_ls.workspace import DiskProbe


@dataclass
class Context:
    """What the environment rules may consult. Each part is optional: a rule whose input is
    missing does not run (no SkillMeat home: no collection rules; a file that is not in a
    profile root: no disk rules)."""

    file_path: Path | None = None
    collections: CollectionIndex | None = None
    disk: DiskProbe | None = None
    #: The project's own rule settings (its ``skillmeat-ls.toml``); the analyzer's apply on top.
    project: RuleSettings | None = None
    #: The file's profile root (``<project>/.claude``, ``<project>/.agents``, ...).
    profile_root: Path | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        if self.file_path is not None and is_deployment_file(self.file_path):
            self.profile_root = self.file_path.parent

    @property
    def root_name(self) -> str | None:
        return self.profile_root.name if self.profile_root is not None else None
