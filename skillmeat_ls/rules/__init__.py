"""Diagnostic rules: one small function per SPEC §4 code, and the runner that applies them.

A rule reads a parsed :class:`~skillmeat_ls.document.Document` (and, for the rules that need them,
the collections index and the project's files on disk) and yields :class:`Diagnostic` objects
with spans as code-point offsets. Rules never raise on bad input and never read outside the
file's own profile root (``.claude/``, ``.agents/``, ...).

The modules, by what a rule depends on:

* :mod:`~skillmeat_ls.rules.structure`: the file's syntax and top level (SM100–SM103);
* :mod:`~skillmeat_ls.rules.records`: one record alone (SM110–SM114), computed once per chunk;
* :mod:`~skillmeat_ls.rules.collisions`: the records against each other (SM120–SM122);
* :mod:`~skillmeat_ls.rules.environment`: the file's place, the collections and the disk
  (SM104, SM105, SM130–SM132, SM140–SM142);
* :mod:`~skillmeat_ls.rules.analyzer`: the runner, which reuses per-chunk results between
  versions of a document;
* :mod:`~skillmeat_ls.rules.diagnostic`, :mod:`~skillmeat_ls.rules.settings` and
  :mod:`~skillmeat_ls.rules.context`: what rules report, what the user chose to see, and what
  the environment rules may consult.

Everything importers use is re-exported here.
"""

from skillmeat_ls.rules.analyzer import (
    COLLISION_RULES,
    DOCUMENT_RULES,
    ENVIRONMENT_RULES,
    RECORD_ENVIRONMENT_RULES,
    RECORD_RULES,
    Analyzer,
    ChunkFacts,
    analyze,
)
from skillmeat_ls.rules.collisions import (
    RecordKeys,
    keys_of,
    rule_duplicate_records,
    rule_shared_names,
    rule_shared_paths,
)
from skillmeat_ls.rules.context import Context
from skillmeat_ls.rules.diagnostic import (
    ALL_CODES,
    SEVERITY,
    SUMMARIES,
    Diagnostic,
    Related,
    Severity,
    finding,
)
from skillmeat_ls.rules.environment import (
    DriftState,
    drift_state,
    rule_collection_reference,
    rule_copy_leaves_root,
    rule_drift,
    rule_missing_on_disk,
    rule_plan_file_name,
    rule_profile_root,
)
from skillmeat_ls.rules.records import (
    path_escapes,
    rule_artifact_type,
    rule_field_formats,
    rule_path_containment,
    rule_path_folder,
    rule_required_fields,
)
from skillmeat_ls.rules.settings import (
    SEVERITY_BY_NAME,
    Ignore,
    RuleSettings,
    record_profile,
    subject_of,
)
from skillmeat_ls.rules.structure import (
    rule_legacy_schema,
    rule_mixed_schema,
    rule_syntax,
    rule_unknown_top_level,
)

__all__ = [
    "ALL_CODES",
    "COLLISION_RULES",
    "DOCUMENT_RULES",
    "ENVIRONMENT_RULES",
    "RECORD_ENVIRONMENT_RULES",
    "RECORD_RULES",
    "SEVERITY",
    "SEVERITY_BY_NAME",
    "SUMMARIES",
    "Analyzer",
    "ChunkFacts",
    "Context",
    "Diagnostic",
    "DriftState",
    "Ignore",
    "RecordKeys",
    "Related",
    "RuleSettings",
    "Severity",
    "analyze",
    "drift_state",
    "finding",
    "keys_of",
    "path_escapes",
    "record_profile",
    "rule_artifact_type",
    "rule_collection_reference",
    "rule_copy_leaves_root",
    "rule_drift",
    "rule_duplicate_records",
    "rule_field_formats",
    "rule_legacy_schema",
    "rule_missing_on_disk",
    "rule_mixed_schema",
    "rule_path_containment",
    "rule_path_folder",
    "rule_plan_file_name",
    "rule_profile_root",
    "rule_required_fields",
    "rule_shared_names",
    "rule_shared_paths",
    "rule_syntax",
    "rule_unknown_top_level",
    "subject_of",
]
