"""Warm starts: the hashes of deployed copies are kept in the cache, keyed by a stat fingerprint.

A restart (the server's session, a ``check`` run, a scan worker) re-hashes only the copies that
changed; a copy changed while nothing ran is re-hashed at the next start, and one changed behind
an unchanged fingerprint is re-hashed after a file event. Hash computations are counted through
the explicit ``copy_hasher`` seam; everything else is real: files, the SQLite cache, processes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from skillmeat_ls.lint import lint_paths
from skillmeat_ls.rules import RuleSettings
from skillmeat_ls.scan import analyze_batch, place, worker_pool
from skillmeat_ls.session import Session, Settings
from skillmeat_ls.workspace import KnownCopy, confined_hash
from skillmeat_ls.writer import render_unified

COPIES = 6


class CountingHasher:
    """The real copy hash, with the path of every computation recorded."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, path: Path, within: str) -> str:
        self.paths.append(str(path))
        return confined_hash(path, within)


def build(root: Path, project: str = "project", copies: int = COPIES) -> Path:
    """A SkillMeat home whose collection ``default`` holds ``copies`` skills and commands, and a
    project with all of them deployed (records right); returns the deployment file."""
    claude = root / "workspace" / project / ".claude"
    collection = root / "home" / "collections" / "default"
    manifest = [
        '[collection]\nname = "default"\nversion = "1.0.0"\n'
        'created = "2026-01-01T00:00:00"\nupdated = "2026-01-01T00:00:00"\n'
    ]
    records = []
    for i in range(copies):
        kind = "skill" if i % 2 == 0 else "command"
        name = f"item-{i}"
        rel = f"skills/{name}" if kind == "skill" else f"commands/{name}.md"
        body = f"# {name}\n".encode()
        for base in (claude, collection):
            target = base / rel / "SKILL.md" if kind == "skill" else base / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)
        digest = hashlib.sha256((b"SKILL.md" if kind == "skill" else b"") + body).hexdigest()
        records.append(
            {
                "artifact_name": name,
                "artifact_type": kind,
                "from_collection": "default",
                "deployed_at": "2026-01-05T15:07:49.157370",
                "artifact_path": rel,
                "content_hash": digest,
                "local_modifications": False,
                "version_lineage": [digest],
                "merge_base_snapshot": digest,
            }
        )
        manifest.append(
            f'[[artifacts]]\nname = "{name}"\ntype = "{kind}"\npath = "{rel}"\n'
            f'origin = "local"\nadded = "2026-01-01T00:00:00"\n'
        )
    (collection / "collection.toml").write_text("\n".join(manifest))
    path = claude / ".skillmeat-deployed.toml"
    path.write_text(render_unified(records))
    return path


def settings(root: Path) -> Settings:
    return Settings(home=root / "home", cache_path=root / "cache.db")


def run_session(root: Path, file: Path, hasher: CountingHasher, *, events: int = 0) -> list[str]:
    """Start a session (a server's start-up), analyse ``file``, shut down; the codes found."""
    session = Session(settings(root), copy_hasher=hasher)
    session.start()
    try:
        analysis = session.analyze(file, file.read_text(), 1)
        session.save_learned()
        return sorted(d.code for d in analysis.diagnostics)
    finally:
        session.close()


def skill_file(file: Path, i: int) -> Path:
    return file.parent / "skills" / f"item-{i}" / "SKILL.md"


def test_a_restart_reuses_the_stored_hashes(tmp_path: Path) -> None:
    file = build(tmp_path)
    skill_file(file, 0).write_bytes(b"# changed here\n")  # one drifted copy: SM140 to keep
    first = CountingHasher()
    found = run_session(tmp_path, file, first)
    assert len(first.paths) == COPIES
    assert "SM140" in found

    again = CountingHasher()
    assert run_session(tmp_path, file, again) == found
    assert again.paths == []


def test_a_copy_changed_while_nothing_ran_is_hashed_again_at_the_next_start(
    tmp_path: Path,
) -> None:
    file = build(tmp_path)
    assert "SM140" not in run_session(tmp_path, file, CountingHasher())
    skill_file(file, 2).write_bytes(b"# edited while the editor was closed\n")

    again = CountingHasher()
    assert "SM140" in run_session(tmp_path, file, again)
    assert again.paths == [str(skill_file(file, 2).parent.resolve())]


def test_a_file_event_rehashes_a_copy_whose_fingerprint_did_not_change(tmp_path: Path) -> None:
    file = build(tmp_path)
    hasher = CountingHasher()
    session = Session(settings(tmp_path), copy_hasher=hasher)
    session.start()
    try:
        assert "SM140" not in [d.code for d in session.analyze(file, file.read_text(), 1).diagnostics]
        session.save_learned()
        # Same size, same mtime, same inode: only the editor's file event can tell.
        copy = skill_file(file, 4)
        before = copy.stat()
        with copy.open("r+b") as handle:
            handle.write(b"# item-X\n")
        os.utime(copy, ns=(before.st_atime_ns, before.st_mtime_ns))
        os.utime(copy.parent, ns=(copy.parent.stat().st_atime_ns, copy.parent.stat().st_mtime_ns))
        hasher.paths.clear()
        session.forget_disk(file.parent.parent)  # what a file event under the project does
        codes = [d.code for d in session.analyze(file, file.read_text(), 2).diagnostics]
        assert "SM140" in codes
        assert str(copy.parent.resolve()) in hasher.paths
        session.save_learned()
    finally:
        session.close()

    # The hash learned after the event is the one stored: a restart keeps judging it modified.
    again = CountingHasher()
    assert "SM140" in run_session(tmp_path, file, again)
    assert again.paths == []


def test_stored_rows_name_each_copy_with_its_hash(tmp_path: Path) -> None:
    file = build(tmp_path)
    run_session(tmp_path, file, CountingHasher())
    with sqlite3.connect(tmp_path / "cache.db") as db:
        rows = dict(db.execute("SELECT path, content_hash FROM copy_hashes"))
    root = str(file.parent.resolve())
    assert len(rows) == COPIES
    for path, digest in rows.items():
        assert path.startswith(root + os.sep)
        assert digest == confined_hash(Path(path), root)


def test_a_warm_check_rehashes_nothing(tmp_path: Path) -> None:
    file = build(tmp_path)
    skill_file(file, 0).write_bytes(b"# drifted\n")
    workspace = tmp_path / "workspace"

    def check(hasher: CountingHasher) -> list[str]:
        result = lint_paths(
            [workspace], tmp_path / "home", tmp_path / "cache.db", copy_hasher=hasher
        )
        return sorted(d.code for report in result.reports for d in report.diagnostics)

    cold, warm, later = CountingHasher(), CountingHasher(), CountingHasher()
    found = check(cold)
    assert len(cold.paths) == COPIES and "SM140" in found
    assert check(warm) == found and warm.paths == []
    skill_file(file, 0).write_bytes(b"# drifted again, longer\n")
    assert check(later) == found and later.paths == [str(skill_file(file, 0).parent.resolve())]


def test_without_a_cache_check_keeps_nothing(tmp_path: Path) -> None:
    file = build(tmp_path)
    for _ in range(2):
        hasher = CountingHasher()
        lint_paths([file], tmp_path / "home", None, copy_hasher=hasher)
        assert len(hasher.paths) == COPIES


def test_a_scan_worker_reuses_handed_hashes_and_returns_what_it_computed(tmp_path: Path) -> None:
    files = [build(tmp_path / f"w{i}", copies=4) for i in range(3)]
    pool = worker_pool(RuleSettings(), "utf-16")
    try:
        cold = pool.submit(analyze_batch, None, files, (), None, {}).result(timeout=60)
        assert len(cold.learned) == 3 * 4
        assert all(isinstance(copy, KnownCopy) and copy.content_hash for copy in cold.learned.values())

        warm = pool.submit(analyze_batch, None, files, (), None, cold.learned).result(timeout=60)
        assert warm.learned == {}
        assert warm.files == cold.files

        changed = skill_file(files[1], 2)
        changed.write_bytes(b"# changed in a worker's project\n")
        later = pool.submit(analyze_batch, None, files, (), None, cold.learned).result(timeout=60)
        assert list(later.learned) == [str(changed.parent.resolve())]
    finally:
        pool.shutdown()


def test_hashes_computed_before_the_cache_opened_are_stored_once_it_is(tmp_path: Path) -> None:
    """A document opened while a new cache is still being created is analysed at once; what
    that analysis hashed reaches the cache when it is ready, and serves the next start."""
    file = build(tmp_path)
    first = CountingHasher()
    session = Session(settings(tmp_path), copy_hasher=first)
    session.open_cache_if_current()  # no cache yet: left to start()
    assert session.cache is None
    session.analyze(file, file.read_text(), 1)
    session.save_learned()  # nothing to save into yet: kept
    session.start()
    session.save_learned()
    session.close()
    assert len(first.paths) == COPIES

    again = CountingHasher()
    session = Session(settings(tmp_path), copy_hasher=again)
    session.open_cache_if_current()  # at head now: opened before the first analysis
    assert session.cache is not None
    session.analyze(file, file.read_text(), 1)
    session.close()
    assert again.paths == []


# --- verdicts: a file whose text, inputs and disk answers are unchanged is not analysed again ---


def test_a_scan_worker_reuses_verdicts_only_while_everything_they_depend_on_holds(
    tmp_path: Path,
) -> None:
    from skillmeat_ls.index import load_collections

    files = [build(tmp_path, f"p{i}", copies=4) for i in range(3)]
    home = tmp_path / "home"
    pool = worker_pool(RuleSettings(), "utf-16")

    def scan(verdicts: dict[str, str] | None, index: object = None) -> tuple:
        index = index if index is not None else load_collections(home)
        done = pool.submit(analyze_batch, index, files, (), None, {}, verdicts).result(timeout=60)
        fresh = pool.submit(analyze_batch, index, files, (), None, {}, None).result(timeout=60)
        assert done.files == fresh.files  # whatever was reused, the answer is a fresh one's
        return done, sorted(Path(p).parent.parent.name for p in done.verdicts)

    try:
        cold, analysed = scan({})
        assert analysed == ["p0", "p1", "p2"]
        stored = dict(cold.verdicts)

        warm, analysed = scan(stored)
        assert analysed == []  # nothing parsed again
        assert warm.files == cold.files

        # The file's text changed: that file only.
        text = files[0].read_text()
        files[0].write_text(text.replace("local_modifications = false", "local_modifications = true", 1))
        after, analysed = scan(stored)
        assert analysed == ["p0"]
        stored.update(after.verdicts)

        # A deployed copy changed: its file only, and the drift is seen.
        skill_file(files[1], 2).write_bytes(b"# changed in the project\n")
        after, analysed = scan(stored)
        assert analysed == ["p1"]
        assert any(d.diagnostic.code == "SM140" for f in after.files for d in f.diagnostics)
        stored.update(after.verdicts)

        # The collections changed (another index): every file.
        collection_copy = home / "collections" / "default" / "commands" / "item-1.md"
        collection_copy.write_bytes(b"# a newer item-1\n")
        after, analysed = scan(stored)
        assert analysed == ["p0", "p1", "p2"]
        stored.update(after.verdicts)

        # A damaged verdict is no verdict.
        stored[str(files[2])] = "{damaged"
        _, analysed = scan(stored)
        assert analysed == ["p2"]
    finally:
        pool.shutdown()


def test_verdicts_follow_the_rule_settings(tmp_path: Path) -> None:
    file = build(tmp_path)
    skill_file(file, 0).write_bytes(b"# drifted\n")
    everything = worker_pool(RuleSettings(), "utf-16")
    quieter = worker_pool(RuleSettings(disabled=frozenset({"SM140"})), "utf-16")
    try:
        first = everything.submit(analyze_batch, None, [file], (), None, {}, {}).result(timeout=60)
        assert any(d.diagnostic.code == "SM140" for d in first.files[0].diagnostics)
        other = quieter.submit(analyze_batch, None, [file], (), None, {}, first.verdicts).result(
            timeout=60
        )
        assert list(other.verdicts) == [str(file)]  # analysed again, not reused
        assert all(d.diagnostic.code != "SM140" for d in other.files[0].diagnostics)
    finally:
        everything.shutdown()
        quieter.shutdown()


def test_the_session_keeps_verdicts_across_a_restart(tmp_path: Path) -> None:
    file = build(tmp_path)
    pool = worker_pool(RuleSettings(), "utf-16")
    try:
        made = pool.submit(analyze_batch, None, [file], (), None, {}, {}).result(timeout=60)
    finally:
        pool.shutdown()
    session = Session(settings(tmp_path))
    session.start()
    session.learn_from_scan({}, made.verdicts)
    session.close()

    session = Session(settings(tmp_path))
    session.start()
    try:
        assert session.verdicts_of([file]) == made.verdicts
        assert session.verdicts_of([file.with_name("elsewhere.toml")]) == {}
    finally:
        session.close()


def test_check_without_a_skillmeat_home_creates_no_cache(tmp_path: Path) -> None:
    file = build(tmp_path)
    cache = tmp_path / "nowhere" / "cache" / "skillmeat-ls.db"
    result = lint_paths([file], tmp_path / "nowhere", cache)
    assert any("no SkillMeat collections" in note for note in result.notes)
    assert not (tmp_path / "nowhere").exists()


def test_a_verdicts_inputs_include_the_profile_overrides_of_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SkillMeat reads profile overrides from the environment; a verdict made under others is
    not reused."""
    from skillmeat_ls.profiles import ENV_OVERRIDES
    from skillmeat_ls.verdicts import inputs_digest, text_inputs_digest

    monkeypatch.delenv(ENV_OVERRIDES, raising=False)
    plain = inputs_digest(RuleSettings(), None, "utf-16", None)
    plain_text = text_inputs_digest(RuleSettings(), None, "utf-16")
    monkeypatch.setenv(ENV_OVERRIDES, '{"claude_code": {"root_dir": ".other"}}')
    assert inputs_digest(RuleSettings(), None, "utf-16", None) != plain
    assert text_inputs_digest(RuleSettings(), None, "utf-16") != plain_text
    assert inputs_digest(RuleSettings(), None, "utf-8", None) != inputs_digest(
        RuleSettings(), None, "utf-16", None
    )


# --- the first look: an opened file's text findings, kept from the last time -----------------------


def open_session(root: Path, rules: RuleSettings | None = None) -> Session:
    session = Session(Settings(home=root / "home", cache_path=root / "cache.db",
                               rules=rules or RuleSettings()))
    session.start()
    return session


def test_a_reopened_text_first_shows_what_the_text_rules_found_in_it(tmp_path: Path) -> None:
    """Kept when opened, shown the next time that text is opened with those settings: the
    text-only findings (SM111, a malformed hash) and nothing the disk decides (SM132, a missing
    copy); another text, other settings, or a first open show nothing before the analysis."""
    file = build(tmp_path)
    text = file.read_text().replace(hashlib.sha256(b"# item-1\n").hexdigest(), "abc", 1)
    (file.parent / "commands" / "item-3.md").unlink()
    session = open_session(tmp_path)
    try:
        assert session.first_look(file, text, "utf-16") is None  # nothing kept yet
        analysis = session.analyze(file, text, 1)
        assert sorted(d.code for d in analysis.diagnostics) == ["SM111", "SM132"]
        session.keep_text_findings(file, "utf-16")  # stored when the session closes
    finally:
        session.close()

    session = open_session(tmp_path)
    try:
        found = session.first_look(file, text, "utf-16")
        assert found is not None and [p.diagnostic.code for p in found] == ["SM111"]
        analysis = session.analyze(file, text, 1)
        expected = [p for p in place(analysis.document, analysis.diagnostics, "utf-16")
                    if p.diagnostic.code == "SM111"]
        assert list(found) == expected  # the same diagnostic, at the same place
        assert session.first_look(file, text + "\n", "utf-16") is None
        assert session.first_look(file, text, "utf-8") is None
    finally:
        session.close()

    session = open_session(tmp_path, RuleSettings(disabled=frozenset({"SM132"})))
    try:
        assert session.first_look(file, text, "utf-16") is None
    finally:
        session.close()



# --- rows of what is gone --------------------------------------------------------------------------


def stored_paths(cache: Path) -> dict[str, set[str]]:
    """The paths each kept table names (copy_hashes by profile root)."""
    with sqlite3.connect(cache) as db:
        return {
            "copy_hashes": {root for (root,) in db.execute("SELECT root FROM copy_hashes")},
            "file_verdicts": {path for (path,) in db.execute("SELECT path FROM file_verdicts")},
            "text_verdicts": {path for (path,) in db.execute("SELECT path FROM text_verdicts")},
        }


def test_a_scan_forgets_the_rows_of_a_project_that_is_gone(tmp_path: Path) -> None:
    """Copy hashes, verdicts and text verdicts of a project deleted since are dropped by the
    next scan of its workspace folder; those of a project still there, and of files outside the
    folder scanned, are kept."""
    kept, gone = build(tmp_path, "kept"), build(tmp_path, "gone")
    outside = build(tmp_path / "other", "outside")
    files = [kept, gone, outside]
    session = open_session(tmp_path)
    try:
        for file in files:
            session.analyze(file, file.read_text(), 1)
            session.keep_text_findings(file, "utf-16")
        session.learn_from_scan({}, {str(file): "{}" for file in files})
    finally:
        session.close()
    every = {str(file) for file in files}
    roots = {os.path.realpath(file.parent) for file in files}
    assert stored_paths(tmp_path / "cache.db") == {
        "copy_hashes": roots, "file_verdicts": every, "text_verdicts": every
    }

    shutil.rmtree(gone.parent.parent)
    workspace = tmp_path / "workspace"
    session = open_session(tmp_path)
    try:
        found = session.scan([workspace])
        assert found == [kept]
        session.forget_gone([workspace], found)
        session.save_learned()
    finally:
        session.close()
    left = {str(kept), str(outside)}
    assert stored_paths(tmp_path / "cache.db") == {
        "copy_hashes": {os.path.realpath(kept.parent), os.path.realpath(outside.parent)},
        "file_verdicts": left,
        "text_verdicts": left,
    }
