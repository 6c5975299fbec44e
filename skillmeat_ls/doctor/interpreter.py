"""Finding the installed SkillMeat's Python interpreter and running
:mod:`skillmeat_ls.doctor.skillmeat_side` in it: :func:`run_side` (one command, its JSON answer)
and :func:`skillmeat_facts` (what that SkillMeat says about itself, and a rehearsal of its
``initialize_cache()``).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skillmeat_ls.doctor import skillmeat_side
from skillmeat_ls.doctor.report import DoctorError

log = logging.getLogger(__name__)

ENV_SKILLMEAT = "SKILLMEAT_LS_SKILLMEAT"
SIDE_TIMEOUT_S = 600.0
#: Run by its path, not imported: SkillMeat's interpreter has no ``skillmeat_ls`` to import.
SIDE_SCRIPT = Path(skillmeat_side.__file__).resolve()


@dataclass(frozen=True)
class SkillMeatFacts:
    """What the installed SkillMeat says about itself (run in its own interpreter)."""

    python: str
    via: str
    version: str
    heads: list[str]
    revisions: frozenset[str]
    #: table -> columns of its ORM models (what ``create_tables()`` makes)
    models: dict[str, list[str]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "python": self.python,
            "via": self.via,
            "version": self.version,
            "heads": self.heads,
            "revisions": len(self.revisions),
            "model_tables": len(self.models),
        }


def skillmeat_interpreter(
    explicit: str | os.PathLike[str] | None = None, environ: dict[str, str] | None = None
) -> tuple[Path | None, str]:
    """The Python interpreter of the installed SkillMeat, and where it was found (or why not).

    ``explicit`` (``--skillmeat``), else ``$SKILLMEAT_LS_SKILLMEAT``, else ``skillmeat`` on
    ``PATH``; each may be the ``skillmeat`` executable (its interpreter comes from its shebang
    line, else the ``python`` beside it) or a Python interpreter.
    """
    env = os.environ if environ is None else environ
    if explicit:
        candidate, via = str(explicit), "--skillmeat"
    elif env.get(ENV_SKILLMEAT):
        candidate, via = env[ENV_SKILLMEAT], f"${ENV_SKILLMEAT}"
    else:
        found = shutil.which("skillmeat", path=env.get("PATH"))
        if found is None:
            return None, (
                "no SkillMeat found: no `skillmeat` on PATH (give --skillmeat PATH or set "
                f"${ENV_SKILLMEAT})"
            )
        candidate, via = found, "PATH"
    path = Path(candidate).expanduser()
    if not path.is_file():
        found = shutil.which(candidate, path=env.get("PATH"))
        if found is None:
            return None, f"{via}: {candidate} is not a file"
        path = Path(found)
    try:
        with path.open("rb") as handle:
            head = handle.read(512)
    except OSError as exc:
        return None, f"{via}: cannot read {path}: {exc.strerror or exc}"
    if not head.startswith(b"#!"):
        return path, via  # a binary: the interpreter itself
    line = head[2:].split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    words = line.split()
    if words and Path(words[0]).name == "env" and len(words) > 1:
        interpreter = shutil.which(words[-1], path=env.get("PATH"))
    else:
        interpreter = words[0] if words else None
    if interpreter and "python" in Path(interpreter).name:
        return Path(interpreter), f"{via} ({path})"
    beside = path.resolve().parent / "python"
    if beside.is_file():
        return beside, f"{via} ({path})"
    return None, f"{via}: cannot tell the Python interpreter of {path} from {line!r}"


def run_side(python: Path, command: str, request: dict[str, Any]) -> dict[str, Any]:
    """Run :func:`skillmeat_side.main` in SkillMeat's interpreter; its JSON answer."""
    with tempfile.TemporaryDirectory(prefix="skillmeat-ls-doctor-") as scratch:
        out = Path(scratch) / "answer.json"
        argv = [str(python), "-I", str(SIDE_SCRIPT), command, str(out)]
        try:
            result = subprocess.run(
                argv,
                input=json.dumps({**request, "scratch": scratch}),
                capture_output=True,
                text=True,
                cwd=scratch,
                timeout=SIDE_TIMEOUT_S,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DoctorError(f"could not run {python}: {exc}") from exc
        if not out.exists():
            lines = [x for x in (result.stderr + result.stdout).splitlines() if x.strip()]
            raise DoctorError(
                f"{python} could not run SkillMeat's code (exit {result.returncode}): "
                f"{lines[-1] if lines else 'no output'}"
            )
        answer: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    if not answer.get("ok"):
        log.debug("SkillMeat side %s failed:\n%s", command, answer.get("traceback"))
        raise DoctorError(str(answer.get("error")))
    return answer


def skillmeat_facts(
    explicit: str | os.PathLike[str] | None = None,
    environ: dict[str, str] | None = None,
    rehearse: Path | None = None,
) -> tuple[SkillMeatFacts | None, dict[str, Any] | None, str | None]:
    """(facts, rehearsal on ``rehearse`` — a private copy —, why there are no facts)."""
    python, via = skillmeat_interpreter(explicit, environ)
    if python is None:
        return None, None, via
    try:
        answer = run_side(python, "inspect", {"rehearse": str(rehearse) if rehearse else None})
    except DoctorError as exc:
        return None, None, f"{via}: {exc}"
    facts = SkillMeatFacts(
        python=str(python),
        via=via,
        version=answer["version"],
        heads=sorted(answer["heads"]),
        revisions=frozenset(answer["revisions"]),
        models={name: list(cols) for name, cols in answer["models"].items()},
    )
    return facts, answer.get("rehearsal"), None
