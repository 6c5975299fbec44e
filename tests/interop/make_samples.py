"""Regenerate ``tests/data/skillmeat-0.74/`` with the real SkillMeat 0.74.0 (from PyPI).

    .venv/bin/python tests/interop/make_samples.py [TARGET]

Runs SkillMeat's own CLI with a temporary ``HOME`` (the recipes of the reference notes, §8) and
copies what it wrote: the SkillMeat home (without its ``cache/``), and the projects with their
deployment files, deployed copies and SkillMeat's lock files. Writes ``README.md`` with the
command behind each deployment file. Not a test; ``test_interop_samples.py`` checks the result.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import smreal

VERSION = "0.74.0"
DEFAULT_TARGET = smreal.ROOT / "tests" / "data" / "skillmeat-0.74"

SOURCES = {
    "code-review/SKILL.md": "---\nname: code-review\ndescription: Review a change\n---\n# Code review\n",
    "code-review/scripts/check.py": "print('checking')\n",
    "code-review/references/style guide.md": "# Style guide\n\nShort lines.\n",
    "lint-fix.md": "---\ndescription: Fix lint findings\n---\n# /lint-fix\n",
    "helper.md": "---\nname: helper\ndescription: A helper agent\n---\n# Helper\n",
    "nightly.py": '"""Nightly orchestration."""\nprint("nightly")\n',
    "team/release-notes.md": "---\ndescription: Draft release notes\n---\n# /release-notes\n",
}


def main(target: Path) -> int:
    installed = smreal.ensure_installed(VERSION)
    with tempfile.TemporaryDirectory(prefix="skillmeat-samples-") as scratch:
        base = Path(scratch)
        sm = smreal.SkillMeat(installed, base / "home")
        src = base / "src"
        for rel, text in SOURCES.items():
            (src / rel).parent.mkdir(parents=True, exist_ok=True)
            (src / rel).write_text(text)
        log: list[tuple[str, str]] = []

        def run(*args: str | Path) -> None:
            sm.cli(*args)
            shown = " ".join(
                f'"{a}"' if " " in str(a) else str(a)
                for a in (str(a).replace(str(base), "$TMP") for a in args)
            )
            log.append(("skillmeat " + shown, time.strftime("%Y-%m-%d")))

        run(*sm.release.init_args)
        run("collection", "create", "team")
        run("add", "skill", src / "code-review", "-y")
        run("add", "command", src / "lint-fix.md", "-y")
        run("add", "agent", src / "helper.md", "-y")
        run("add", "orchestration", src / "nightly.py", "-y")
        run("add", "command", src / "team" / "release-notes.md", "-c", "team", "-y")
        project = base / "project"
        emptied = base / "emptied"
        project.mkdir()
        emptied.mkdir()
        flags = sm.release.deploy_flags
        run("deploy", "code-review", "lint-fix", "helper", "-p", project, *flags)
        run("deploy", "nightly", "-t", "orchestration", "-p", project, *flags)
        run("deploy", "code-review", "helper", "-p", project, "--profile", "codex", *flags)
        run("deploy", "release-notes", "-c", "team", "-p", project, "--profile", "codex", *flags)
        run("deploy", "helper", "-p", emptied, "--profile", "codex", *flags)
        run("undeploy", "helper", "-p", emptied, "--profile", "codex", "--force")

        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        # The home's collections and config; not its cache.db, analytics.db, audit log or the
        # collection snapshots (tarballs) that every 0.74.0 deploy takes.
        shutil.copytree(sm.smhome / "collections", target / "home" / "collections")
        shutil.copy2(sm.smhome / "config.toml", target / "home" / "config.toml")
        shutil.copytree(project, target / "project")
        shutil.copytree(emptied, target / "emptied")
        for path in target.rglob("*"):
            if path.is_file() and str(base) in path.read_text(errors="replace"):
                path.write_text(path.read_text().replace(str(base), "/tmp/skillmeat-samples"))
        write_readme(target, log)
    return 0


def write_readme(target: Path, log: list[tuple[str, str]]) -> None:
    commands = "\n".join(f"{i}. `{cmd}`" for i, (cmd, _) in enumerate(log, 1))
    day = log[0][1]
    files = [
        (
            "project/.claude/.skillmeat-deployed.toml",
            "steps 8-9: four types (skill, command, agent, orchestration), all with the profile keys",
        ),
        (
            "project/.agents/.skillmeat-deployed.toml",
            "steps 10-11: the codex profile's root, two collections; step 10 also rewrote the .claude file",
        ),
        (
            "emptied/.agents/.skillmeat-deployed.toml",
            "steps 12-13: the codex root after its last artifact was undeployed: `deployed = []`",
        ),
        (
            "emptied/.claude/.skillmeat-deployed.toml",
            "step 13: written by the undeploy though nothing was ever deployed there: `deployed = []`",
        ),
        (
            "home/",
            "steps 1-7: the SkillMeat home (`~/.skillmeat`): `collections/` and `config.toml` only",
        ),
        (
            "project/.claude/…, project/.agents/…",
            "the deployed copies and SkillMeat's 0-byte `.*.skillmeat-lock` files",
        ),
    ]
    rows = "\n".join(f"| `{f}` | {why} |" for f, why in files)
    (target / "README.md").write_text(
        f"""# Files written by the real SkillMeat {VERSION}

Written by SkillMeat {VERSION} from PyPI on {day} (Python {sys.version.split()[0]}, a temporary
`HOME`, `NO_COLOR=1 TERM=dumb COLUMNS=200`), by `tests/interop/make_samples.py`, which ran:

{commands}

`$TMP` was a temporary folder; no absolute path of it is left in these files. Each file's origin:

| file | origin |
| --- | --- |
{rows}

`tests/interop/test_interop_samples.py` checks that `skillmeat-ls check` finds nothing in them
(with and without the home); it needs no network.
"""
    )


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_TARGET))
