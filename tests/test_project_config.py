"""Per-project rule config (``skillmeat-ls.toml`` / ``.skillmeat-ls.toml``): found nearest first,
``[rules]``, ``[severity]`` and ``[[ignore]]`` applied under the editor's settings, and a bad file
reported with its place, never raised."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from test_rules import record

from skillmeat_ls.document import parse_document
from skillmeat_ls.project_config import ConfigCache, find_config, parse_config
from skillmeat_ls.rules import Context, RuleSettings, Severity, analyze

DUPLICATES = record() + record() + record(artifact_name="other", artifact_type="skill",
                                          artifact_path="skills/other")


def project(tmp_path: Path, text: str, root: str = ".claude") -> Path:
    file = tmp_path / "repo" / "app" / root / ".skillmeat-deployed.toml"
    file.parent.mkdir(parents=True)
    file.write_text(text)
    return file


def codes(file: Path, stops: tuple[Path, ...] = (), editor: RuleSettings | None = None):
    config = ConfigCache(stops=stops).for_file(file)
    context = Context(file_path=file, project=config.settings if config else None)
    return [(d.code, d.severity) for d in
            analyze(parse_document(file.read_text()), context, editor)]


def test_nearest_config_wins_and_the_search_stops(tmp_path: Path) -> None:
    file = project(tmp_path, DUPLICATES)
    repo, app = tmp_path / "repo", tmp_path / "repo" / "app"
    (repo / ".skillmeat-ls.toml").write_text("[rules]\nSM120 = false\n")
    assert find_config(app, stop=repo) == repo / ".skillmeat-ls.toml"
    assert codes(file, (repo,)) == []
    (app / "skillmeat-ls.toml").write_text('[severity]\nSM120 = "hint"\n')
    assert find_config(app, stop=repo) == app / "skillmeat-ls.toml"
    assert codes(file, (repo,)) == [("SM120", Severity.HINT)]
    assert find_config(app, stop=app) == app / "skillmeat-ls.toml"
    (app / "skillmeat-ls.toml").unlink()
    assert find_config(app, stop=app) is None  # the workspace root ends the search


def test_ignore_entries_match_code_artifact_and_profile(tmp_path: Path) -> None:
    text = DUPLICATES + record(artifact_name="review", artifact_type="skill",
                               artifact_path="skills/review")
    file = project(tmp_path, text)
    assert sorted(c for c, _ in codes(file)) == ["SM120", "SM121", "SM121"]
    config = tmp_path / "repo" / "app" / "skillmeat-ls.toml"
    config.write_text('[[ignore]]\ncode = "SM121"\nartifact = "review.md:command"\n'
                      'reason = "two review artifacts on purpose"\n')
    assert sorted(c for c, _ in codes(file)) == ["SM120", "SM121"]  # the skill's is kept
    config.write_text('[[ignore]]\ncode = "SM121"\nreason = "r"\nprofile = "codex"\n')
    assert sorted(c for c, _ in codes(file)) == ["SM120", "SM121", "SM121"]  # other profile
    config.write_text('[[ignore]]\ncode = "SM121"\nreason = "r"\nprofile = "claude_code"\n')
    assert [c for c, _ in codes(file)] == ["SM120"]


def test_editor_settings_apply_on_top(tmp_path: Path) -> None:
    file = project(tmp_path, DUPLICATES)
    (tmp_path / "repo" / "app" / "skillmeat-ls.toml").write_text('[severity]\nSM120 = "hint"\n')
    editor = RuleSettings(severity={"SM120": Severity.WARNING})
    assert codes(file, editor=editor) == [("SM120", Severity.WARNING)]
    assert codes(file, editor=RuleSettings(disabled=frozenset({"SM120"}))) == []


def test_bad_config_is_reported_with_its_place(tmp_path: Path) -> None:
    text = ('[rules]\nSM999 = false\nSM120 = "no"\n\n[severity]\nSM121 = "loud"\n\n'
            '[[ignore]]\ncode = "SM120"\n\n[extra]\nx = 1\n')
    config = parse_config(tmp_path / "skillmeat-ls.toml", text)
    found = {(d.code, text[d.span[0]:d.span[1]]) for d in config.problems}
    assert found == {("SM111", "SM999"), ("SM111", "SM120"), ("SM111", "SM121"),
                     ("SM110", "[[ignore]]"), ("SM103", "[extra]")}
    assert parse_config(tmp_path / "c.toml", "[rules\n").problems[0].code == "SM100"


def test_config_nested_too_deep_is_one_sm100_at_the_place(tmp_path: Path) -> None:
    text = "[rules]\nSM120 = " + "[" * 500 + "]" * 500 + "\n"
    config = parse_config(tmp_path / "skillmeat-ls.toml", text)
    [problem] = config.problems
    assert (problem.code, problem.span[0]) == ("SM100", text.index("[", 8) + 100)
    assert "Nested more than 100 levels deep" in problem.message
    assert config.settings == RuleSettings()


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_a_config_or_its_problems(text: str) -> None:
    config = parse_config(Path("skillmeat-ls.toml"), text)
    assert isinstance(config.settings, RuleSettings)
    for problem in config.problems:
        assert 0 <= problem.span[0] <= problem.span[1] <= len(text)


def test_check_reads_the_config_and_reports_a_bad_one(tmp_path: Path) -> None:
    file = project(tmp_path, DUPLICATES)
    app = tmp_path / "repo" / "app"
    (app / "skillmeat-ls.toml").write_text('[rules]\nSM120 = false\nSM12 = false\n')

    def check() -> dict:
        done = subprocess.run([sys.executable, "-m", "skillmeat_ls", "--home",
                               str(tmp_path / "none"), "check", "--format", "json", "app"],
                              cwd=tmp_path / "repo", capture_output=True, text=True, timeout=120)
        return {"rc": done.returncode, **json.loads(done.stdout)}

    out = check()
    by_path = {f["path"]: [d["code"] for d in f["diagnostics"]] for f in out["files"]}
    assert "SM120" not in by_path[str(file.relative_to(tmp_path / "repo"))]
    assert by_path["app/skillmeat-ls.toml"] == ["SM111"]
    assert out["rc"] == 1  # the bad config is an error finding
