"""SkillMeat's *own* cache (``<home>/cache/cache.db``): what state it is in, what SkillMeat will do
with it on its next start, and a rebuild that keeps the user's rows (SPEC §8 ``doctor``).

Two halves:

* Here, in skillmeat-ls: :func:`diagnose` reads the file strictly read-only (no byte written, no
  ``-wal``/``-shm`` created), names its structural state, and counts the rows at stake.
  :func:`repair` keeps a byte copy, rebuilds the database beside it and swaps it in atomically.
* In the installed SkillMeat's interpreter (:mod:`.skillmeat_side`, run by its path, standard
  library only at import time): the facts only SkillMeat knows (its Alembic heads and revisions,
  its models' tables and columns), a rehearsal of its own ``CacheManager.initialize_cache()`` on
  a private copy, and the rebuild through that same ``initialize_cache()`` on a fresh file.

The modules: :mod:`.report` (states, verdicts, the report and its rendering, :class:`DoctorError`),
:mod:`.structure` (reading the file), :mod:`.diagnosis` (the verdict), :mod:`.interpreter`
(finding and running SkillMeat's interpreter), :mod:`.rebuild` (the repair) and
:mod:`.skillmeat_side`.

No LSP types here: the server and the CLI both call :func:`diagnose` and :func:`repair`.
"""

from __future__ import annotations

from skillmeat_ls.doctor.diagnosis import (
    CACHE_DIR,
    CACHE_NAME,
    KNOWN_HEAD,
    KNOWN_RELEASE,
    SQUASHED_BEFORE,
    diagnose,
    judge,
    skillmeat_cache_path,
)
from skillmeat_ls.doctor.interpreter import (
    ENV_SKILLMEAT,
    SIDE_SCRIPT,
    SIDE_TIMEOUT_S,
    SkillMeatFacts,
    skillmeat_facts,
    skillmeat_interpreter,
)
from skillmeat_ls.doctor.rebuild import repair
from skillmeat_ls.doctor.report import (
    EXIT_CODES,
    ROW_GROUPS,
    DoctorError,
    RepairResult,
    Report,
    State,
    Verdict,
    format_rows,
    rows_at_stake,
)
from skillmeat_ls.doctor.structure import USER_TABLES, Structure, read_structure

__all__ = [
    "CACHE_DIR",
    "CACHE_NAME",
    "ENV_SKILLMEAT",
    "EXIT_CODES",
    "KNOWN_HEAD",
    "KNOWN_RELEASE",
    "ROW_GROUPS",
    "SIDE_SCRIPT",
    "SIDE_TIMEOUT_S",
    "SQUASHED_BEFORE",
    "USER_TABLES",
    "DoctorError",
    "RepairResult",
    "Report",
    "SkillMeatFacts",
    "State",
    "Structure",
    "Verdict",
    "diagnose",
    "format_rows",
    "judge",
    "read_structure",
    "repair",
    "rows_at_stake",
    "skillmeat_cache_path",
    "skillmeat_facts",
    "skillmeat_interpreter",
]
