"""Which findings a user sees: :class:`RuleSettings` (disabled codes, severity overrides) and a
project's :class:`Ignore` entries, matched against the artifact a finding is about
(:func:`subject_of`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from skillmeat_ls.document import Document, Record
from skillmeat_ls.profiles import DEFAULT_PROFILE_ID, profile_for_root
from skillmeat_ls.rules.diagnostic import Diagnostic, Severity
from skillmeat_ls.schema import Identity, identity

SEVERITY_BY_NAME = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "information": Severity.INFORMATION,
    "info": Severity.INFORMATION,
    "hint": Severity.HINT,
}


@dataclass(frozen=True)
class Ignore:
    """An ``[[ignore]]`` entry of a project's config: ``code``, for one artifact (normalised
    name, canonical type) or all, in one profile or all."""

    code: str
    artifact: Identity | None
    profile: str | None
    reason: str

    def matches(self, diagnostic: Diagnostic, subject: tuple[str, str, str] | None) -> bool:
        if diagnostic.code != self.code:
            return False
        if self.artifact is not None and (subject is None or subject[:2] != self.artifact):
            return False
        return self.profile is None or (subject is not None and subject[2] == self.profile)


@dataclass(frozen=True)
class RuleSettings:
    """Which codes run and at which severity (the ``rules`` / ``severity`` settings), and what
    a project's config ignores."""

    disabled: frozenset[str] = frozenset()
    severity: dict[str, Severity] = field(default_factory=dict)
    ignores: tuple[Ignore, ...] = ()

    def over(self, base: RuleSettings) -> RuleSettings:
        """These settings applied on top of ``base`` (editor settings over a project's)."""
        return RuleSettings(
            self.disabled | base.disabled,
            {**base.severity, **self.severity},
            base.ignores + self.ignores,
        )

    def apply(
        self, diagnostics: Iterable[Diagnostic], doc: Document | None = None, root: str | None = None
    ) -> list[Diagnostic]:
        out = []
        for d in diagnostics:
            if d.code in self.disabled:
                continue
            if self.ignores and doc is not None:
                subject = subject_of(doc, d, root)
                if any(ignore.matches(d, subject) for ignore in self.ignores):
                    continue
            override = self.severity.get(d.code)
            out.append(replace(d, severity=override) if override else d)
        return out


def subject_of(
    doc: Document, diagnostic: Diagnostic, root: str | None
) -> tuple[str, str, str] | None:
    """The artifact a finding is about: (normalised name, canonical type, profile), the profile
    read from the record or else from its file's root; None for a finding about the file."""
    record = doc.record_at(diagnostic.span[0])
    if record is None or not record.name or not record.type:
        return None
    return (*identity(record.name, record.type), record_profile(record, root))


def record_profile(record: Record, root: str | None) -> str:
    """The profile a record is deployed for, as a person names it: its ``deployment_profile_id``,
    else the profile of the root its file is in (``.agents`` -> ``codex``), else the default."""
    profile = record.text("deployment_profile_id")
    if profile:
        return profile
    return profile_for_root(root).id if root else DEFAULT_PROFILE_ID
