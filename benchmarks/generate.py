"""Generated deployment files for the benchmarks: N unified records in SkillMeat's own format."""

from __future__ import annotations

import hashlib

from skillmeat_ls.writer import render_unified

TYPES = ("skill", "command", "agent", "hook")
FOLDERS = {"skill": "skills/{}", "command": "commands/{}.md", "agent": "agents/{}.md",
           "hook": "hooks/{}.md"}


def unified_text(records: int, collection: str = "default") -> str:
    items = []
    for i in range(records):
        artifact_type = TYPES[i % len(TYPES)]
        name = f"artifact-{i:05d}"
        digest = hashlib.sha256(name.encode()).hexdigest()
        items.append({
            "artifact_name": name,
            "artifact_type": artifact_type,
            "from_collection": collection,
            "deployed_at": f"2026-01-{1 + i % 28:02d}T10:{i % 60:02d}:00.123456",
            "artifact_path": FOLDERS[artifact_type].format(name),
            "content_hash": digest,
            "local_modifications": False,
            "version_lineage": [digest],
            "merge_base_snapshot": digest,
        })
    return render_unified(items)


def one_line_edit(text: str) -> str:
    """Change one value in the middle of the file (what a keystroke does)."""
    marker = 'local_modifications = false'
    middle = text.find(marker, len(text) // 2)
    return text[:middle] + 'local_modifications = true' + text[middle + len(marker):]
