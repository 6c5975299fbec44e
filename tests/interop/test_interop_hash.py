"""``skillmeat_ls.hashing.content_hash`` against the real ``compute_content_hash``, on generated trees.

A seeded generator (``SKILLMEAT_LS_INTEROP_SEED`` picks another seed) makes 240 trees and 40
single files: nested and empty folders, binary and empty files, CRLF text, files past the read
chunk size, names with spaces, unicode (NFC and NFD), names that sort differently as paths than
as strings (``a/x`` vs ``a-b``), hidden files and the folders deploy skips (``.git``,
``__pycache__``, ``node_modules``: hashing does not skip them), symlinks to files and folders
inside and outside the tree, broken links, FIFOs, and a few names that are not UTF-8. SkillMeat
hashes all of them in one process of its own interpreter.
"""

from __future__ import annotations

import os
import random
import shutil
import unicodedata
from pathlib import Path

import smreal

from skillmeat_ls.hashing import content_hash

SEED = int(os.environ.get("SKILLMEAT_LS_INTEROP_SEED", "20261201"))
TREES = 240
FILES = 40

NAMES = [
    "a",
    "b",
    "A",
    "B",
    "a-b",
    "a.b",
    "a_b",
    "a b",
    "a b c.md",
    "SKILL.md",
    "skill.md",
    "x.md",
    "README",
    ".hidden",
    ".env",
    "10",
    "9",
    "~tmp",
    "a!",
    "z",
    "é",
    unicodedata.normalize("NFD", "é"),
    "日本語",
    "emoji 😀",
    "tab\tname",
    "semi;colon",
    "q'uote",
    "dash-",
    "-lead",
    "UPPER",
    "MiXeD",
    "café.txt",
    "naïve dir",
    "#hash",
    "$dollar",
    "a=b",
    "[br]",
    "{c}",
]
SKIPPED = [".git", "__pycache__", "node_modules", ".venv", "venv", "x.egg-info", ".github"]


def _content(rng: random.Random) -> bytes:
    kind = rng.random()
    if kind < 0.15:
        return b""
    if kind < 0.4:
        return f"line {rng.randint(0, 9999)}\n".encode() * rng.randint(1, 5)
    if kind < 0.55:
        return b"windows\r\nline\r\n" * rng.randint(1, 4)
    if kind < 0.8:
        return rng.randbytes(rng.randint(1, 600))
    if kind < 0.97:
        return "unicodé ✓ 日本\n".encode() * rng.randint(1, 30)
    return rng.randbytes(rng.randint(60_000, 200_000))  # past the 8 KiB and 64 KiB chunks


def _fill(directory: Path, rng: random.Random, depth: int, made: list[Path]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for _ in range(rng.randint(0, 5)):
        name = rng.choice(NAMES)
        target = directory / name
        if target.exists() or target.is_symlink():
            continue
        target.write_bytes(_content(rng))
        made.append(target)
    if depth < 4:
        for _ in range(rng.randint(0, 3)):
            name = rng.choice(NAMES + SKIPPED if rng.random() < 0.3 else NAMES)
            sub = directory / name
            if sub.exists() or sub.is_symlink():
                continue
            _fill(sub, rng, depth + 1, made)  # some stay empty
            made.append(sub)


def make_tree(root: Path, outside: Path, rng: random.Random) -> None:
    made: list[Path] = []
    _fill(root, rng, 0, made)
    trap = root / "sort trap"
    if rng.random() < 0.25 and not trap.exists():  # paths sort otherwise than their strings
        (trap / "a").mkdir(parents=True)
        (trap / "a" / "x.md").write_bytes(b"x")
        (trap / "a-b.md").write_bytes(b"y")
        (trap / "a.b").mkdir()
        (trap / "a.b" / "z").write_bytes(b"z")
    files = [p for p in made if p.is_file() and not p.is_symlink()]
    dirs = [p for p in made if p.is_dir() and not p.is_symlink()]
    for _ in range(rng.randint(0, 3)):
        here = rng.choice([root, *dirs])
        link = here / f"link {rng.randint(0, 999)}"
        if link.exists() or link.is_symlink():
            continue
        choice = rng.random()
        if choice < 0.25 and files:
            os.symlink(os.path.relpath(rng.choice(files), here), link)  # file inside
        elif choice < 0.45 and dirs:
            os.symlink(os.path.relpath(rng.choice(dirs), here), link)  # folder inside
        elif choice < 0.6:
            os.symlink(outside / "file.md", link)  # file outside, absolute
        elif choice < 0.75:
            os.symlink(os.path.relpath(outside / "dir", here), link)  # folder outside
        elif choice < 0.85:
            os.symlink("does-not-exist", link)  # broken
        else:
            os.mkfifo(link)
    if rng.random() < 0.03:
        bad = os.fsencode(root) + b"/bad-\xff-name"
        with open(bad, "wb") as handle:
            handle.write(b"not utf-8 name")


def build(base: Path) -> list[Path]:
    rng = random.Random(SEED)
    outside = base / "outside"
    (outside / "dir" / "sub").mkdir(parents=True)
    (outside / "file.md").write_bytes(b"outside file\n")
    (outside / "dir" / "sub" / "deep.md").write_bytes(b"outside deep\n")
    paths = []
    for i in range(TREES):
        root = base / f"tree-{i:03d}"
        make_tree(root, outside, rng)
        paths.append(root)
    for i in range(FILES):
        path = base / f"file-{i:03d}.bin"
        path.write_bytes(_content(rng))
        paths.append(path)
    # Roots that are themselves odd: a link to a folder, a link to a file, broken, a FIFO.
    specials = {
        "root-link-dir": lambda p: os.symlink(base / "tree-000", p),
        "root-link-file": lambda p: os.symlink(base / "file-000.bin", p),
        "root-broken": lambda p: os.symlink(base / "nope", p),
        "root-fifo": os.mkfifo,
        "root-empty": lambda p: p.mkdir(),
    }
    for name, make in specials.items():
        make(base / name)
        paths.append(base / name)
    return paths


def ours(path: Path) -> dict[str, str]:
    try:
        return {"hash": content_hash(path)}
    except Exception as exc:
        return {"error": type(exc).__name__}


def test_content_hash_matches_skillmeat_on_generated_trees(
    release: smreal.Installed, tmp_path: Path
) -> None:
    paths = build(tmp_path / "trees")
    sm = smreal.SkillMeat(release, tmp_path / "home")
    sm.home.mkdir()
    theirs = sm.py("hash", {"paths": [str(p) for p in paths]})["results"]
    differ = [
        f"{p.name}: skillmeat-ls {ours(p)}, SkillMeat {t}"
        for p, t in zip(paths, theirs, strict=True)
        if ours(p) != t
    ]
    hashed = sum(1 for t in theirs if "hash" in t)
    assert hashed >= 200, f"only {hashed} paths hashed"
    assert not differ, f"seed {SEED}: {len(differ)} of {len(paths)} differ:\n" + "\n".join(
        differ[:20]
    )
    shutil.rmtree(tmp_path / "trees")  # tens of MB; kept only when the test fails
