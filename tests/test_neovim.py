"""A real editor: headless Neovim's built-in LSP client runs the server on an example file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NVIM = shutil.which("nvim")

# Neovim 0.7 has no vim.lsp.start (0.8+) and no pull diagnostics (0.10+): start_client and push.
SCRIPT = """
local out, file = vim.env.SKILLMEAT_OUT, vim.env.SKILLMEAT_FILE
local client_id = vim.lsp.start_client({
  cmd = { vim.env.SKILLMEAT_PYTHON, "-m", "skillmeat_ls", "--stdio" },
  root_dir = vim.env.SKILLMEAT_ROOT,
  init_options = { home = vim.env.SKILLMEAT_HOME_DIR, cachePath = vim.env.SKILLMEAT_CACHE },
  flags = { debounce_text_changes = 0 },
})
vim.cmd("edit " .. file)
vim.lsp.buf_attach_client(0, client_id)
local ok = vim.wait(30000, function() return #vim.diagnostic.get(0) > 0 end, 100)
local found = {}
for _, d in ipairs(vim.diagnostic.get(0)) do
  table.insert(found, { code = d.code, lnum = d.lnum, col = d.col, severity = d.severity,
                        message = d.message, source = d.source })
end
local handle = io.open(out, "w")
handle:write(vim.fn.json_encode({ ok = ok, diagnostics = found }))
handle:close()
vim.lsp.stop_client(client_id)
vim.wait(2000, function() return vim.lsp.get_client_by_id(client_id) == nil end, 50)
vim.cmd("qa!")
"""


@pytest.mark.skipif(NVIM is None, reason="nvim is not installed (make test installs Debian's neovim)")
def test_neovim_receives_pushed_diagnostics(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    shutil.copytree(ROOT / "examples" / "workspace", workspace)
    target = workspace / "collisions" / ".claude" / ".skillmeat-deployed.toml"
    script = tmp_path / "client.lua"
    script.write_text(SCRIPT)
    out = tmp_path / "diagnostics.json"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SKILLMEAT_PYTHON": sys.executable,
        "SKILLMEAT_ROOT": str(workspace),
        "SKILLMEAT_FILE": str(target),
        "SKILLMEAT_OUT": str(out),
        "SKILLMEAT_HOME_DIR": str(ROOT / "examples" / "home"),
        "SKILLMEAT_CACHE": str(tmp_path / "cache.db"),
    }
    assert NVIM is not None
    subprocess.run(
        [NVIM, "--headless", "-u", "NONE", "-i", "NONE", "-n", "--cmd", "set noswapfile",
         "-c", f"luafile {script}"],
        env=env, cwd=workspace, timeout=120, check=True, capture_output=True,
    )
    result = json.loads(out.read_text())
    assert result["ok"] is True
    found = {(d["code"], d["lnum"]) for d in result["diagnostics"]}
    codes = {code for code, _ in found}
    assert {"SM120", "SM121", "SM122", "SM113"} <= codes
    assert all(d["source"] == "skillmeat" for d in result["diagnostics"])
    text = target.read_text().splitlines()
    duplicate = next(d for d in result["diagnostics"] if d["code"] == "SM120")
    assert text[duplicate["lnum"]] == "[[deployed]]"
