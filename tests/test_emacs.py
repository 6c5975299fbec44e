"""A real editor: headless Emacs (eglot, flymake) runs the server with the README's config."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EMACS = shutil.which("emacs")
SERVER = Path(sys.executable).parent / "skillmeat-ls"
SEVERITIES = {"error": "eglot-error", "warning": "eglot-warning", "information": "eglot-note"}


def _eglot_installed() -> bool:
    if EMACS is None:
        return False
    probe = subprocess.run(
        [EMACS, "--batch", "--eval", "(kill-emacs (if (require 'eglot nil t) 0 1))"],
        env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}, capture_output=True, timeout=60,
    )
    return probe.returncode == 0


if EMACS is None:
    MISSING = "emacs is not installed (make test installs Debian's emacs-nox)"
elif not _eglot_installed():
    MISSING = "eglot is not installed (make test installs Debian's elpa-eglot)"
else:
    MISSING = None

# In batch mode eglot-ensure never fires (it waits for a command loop): start eglot by hand.
# Every buffer of the test belongs to one project rooted at the workspace, as an editor opened
# on it would have it. Each publishDiagnostics is recorded, so "nothing was sent" is checked
# on the wire and not only in flymake.
SCRIPT = """
(setq make-backup-files nil create-lockfiles nil auto-save-default nil)
(require 'eglot)
%(config)s
(defvar skillmeat-root (file-name-as-directory (getenv "SKILLMEAT_ROOT")))
(add-hook 'project-find-functions (lambda (_dir) (cons 'transient skillmeat-root)))
(defvar skillmeat-published nil "URIs of the publishDiagnostics received, newest first.")
(advice-add 'eglot-handle-notification :before
            (lambda (_server method &rest params)
              (when (eq method 'textDocument/publishDiagnostics)
                (push (plist-get params :uri) skillmeat-published))))

(defun skillmeat-wait (seconds done)
  "Wait up to SECONDS until DONE returns non-nil; return its value."
  (let ((deadline (+ (float-time) seconds)) value)
    (while (and (not (setq value (funcall done))) (< (float-time) deadline))
      (accept-process-output nil 0.2))
    value))

(defun skillmeat-codes ()
  "The codes flymake shows in this buffer, sorted."
  (sort (mapcar (lambda (d)
                  (let ((text (flymake-diagnostic-text d)))
                    (and (string-match "\\\\[\\\\(SM[0-9]+\\\\)\\\\]" text)
                         (match-string 1 text))))
                (flymake-diagnostics))
        #'string<))

(defun skillmeat-found ()
  (vconcat
   (mapcar (lambda (d)
             (let ((beg (flymake-diagnostic-beg d)))
               (list :line (line-number-at-pos beg)
                     :column (save-excursion (goto-char beg) (1+ (current-column)))
                     :type (symbol-name (flymake-diagnostic-type d))
                     :text (flymake-diagnostic-text d))))
           (flymake-diagnostics))))

(let* ((expected (sort (split-string (getenv "SKILLMEAT_CODES")) #'string<))
       (deployment (find-file (getenv "SKILLMEAT_FILE")))
       other server ok found mode other-managed same-server answered other-found other-uri)
  (with-current-buffer deployment
    (setq mode (symbol-name major-mode))
    (call-interactively #'eglot)
    (setq server (eglot-current-server))
    ;; the first publish may come before the collections are indexed: wait for them all
    (setq ok (and (skillmeat-wait 60 (lambda () (equal (skillmeat-codes) expected))) t))
    ;; let any publish already under way land, then read what flymake shows
    (accept-process-output nil 0.5)
    (setq found (skillmeat-found)))
  ;; shown in the window, like the first (flymake starts on a displayed buffer)
  (setq other (find-file (getenv "SKILLMEAT_OTHER")))
  (with-current-buffer other
    (setq other-uri (eglot--path-to-uri buffer-file-name))
    ;; the project's server manages every buffer of its modes: this one too (didOpen sent)
    (setq other-managed (and (skillmeat-wait 10 #'eglot-managed-p) t))
    (setq same-server (and other-managed (eq (eglot-current-server) server)))
    ;; a request answered after didOpen: the server has handled the didOpen by then
    (setq answered
          (condition-case nil
              (progn (jsonrpc-request server :textDocument/hover
                                      (eglot--TextDocumentPositionParams) :timeout 20)
                     t)
            (error nil)))
    (accept-process-output nil 1.0)
    (setq other-found (skillmeat-found)))
  (with-temp-file (getenv "SKILLMEAT_OUT")
    (insert (json-serialize
             (list :ok (if ok t :false) :mode mode
                   :diagnostics found
                   :other_managed (if other-managed t :false)
                   :same_server (if same-server t :false)
                   :answered (if answered t :false)
                   :other_diagnostics other-found
                   :other_published (if (member other-uri skillmeat-published) t :false)))))
  (when server (eglot-shutdown server nil 5))
  (kill-emacs 0))
"""


def readme_emacs_config(executable: Path) -> str:
    """The README's Emacs config, verbatim but for the server's path (the venv's)."""
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"\*\*Emacs\*\*.*?\n\n```elisp\n(.*?)```", readme, re.S)
    assert match, "README.md has no Emacs config block"
    config, count = re.subn(r'\("skillmeat-ls"', f'("{executable}"', match.group(1))
    assert count == 1, "the README's Emacs config does not start \"skillmeat-ls\""
    return config


def line_of(lines: list[str], record: int, key: str | None = None) -> int:
    """1-based line of the ``record``-th ``[[deployed]]`` header, or of ``key`` inside it."""
    headers = [i for i, line in enumerate(lines) if line == "[[deployed]]"]
    start = headers[record - 1]
    if key is None:
        return start + 1
    return next(i for i in range(start, len(lines)) if lines[i].startswith(f"{key} =")) + 1


@pytest.mark.skipif(MISSING is not None, reason=MISSING or "")
def test_emacs_eglot_shows_diagnostics(tmp_path: Path) -> None:
    assert EMACS is not None
    assert SERVER.exists(), f"{SERVER} is missing: install the project into the venv"
    workspace = tmp_path / "workspace"
    shutil.copytree(ROOT / "examples" / "workspace", workspace)
    target = workspace / "collisions" / ".claude" / ".skillmeat-deployed.toml"
    other = workspace / "collisions" / "pyproject.toml"
    other.write_text('[project]\nname = "collisions"\nversion = "0.1.0"\n\n[tool.ruff]\nline-length = 100\n')
    script = tmp_path / "client.el"
    script.write_text(SCRIPT % {"config": readme_emacs_config(SERVER)})
    out = tmp_path / "diagnostics.json"
    home, cache = ROOT / "examples" / "home", tmp_path / "cache.db"
    # what the CLI reports for the file (its own cache: the server starts cold)
    check = subprocess.run(
        [str(SERVER), "--home", str(home), "--cache", str(tmp_path / "check.db"), "check",
         "--format", "json", str(target)],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, capture_output=True, text=True,
        timeout=60,
    )
    reported = json.loads(check.stdout)["files"][0]["diagnostics"]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "SKILLMEAT_HOME": str(home),
        "SKILLMEAT_LS_CACHE": str(cache),
        "SKILLMEAT_ROOT": str(workspace),
        "SKILLMEAT_FILE": str(target),
        "SKILLMEAT_OTHER": str(other),
        "SKILLMEAT_OUT": str(out),
        "SKILLMEAT_CODES": " ".join(d["code"] for d in reported),
    }
    run = subprocess.run(
        [EMACS, "--batch", "--no-init-file", "-l", str(script)],
        env=env, cwd=workspace, timeout=150, capture_output=True, text=True,
    )
    assert run.returncode == 0 and out.exists(), run.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["ok"] is True, result
    assert result["mode"] in {"conf-toml-mode", "toml-ts-mode", "toml-mode"}

    shown = []
    for d in result["diagnostics"]:
        match = re.fullmatch(r"skillmeat \[(SM\d+)\]: (.*)", d["text"], re.S)
        assert match, d["text"]  # eglot shows "SOURCE [CODE]: MESSAGE"
        shown.append((match.group(1), d["line"], d["column"], d["type"], match.group(2)))

    lines = target.read_text().splitlines()
    expected = {
        ("SM121", line_of(lines, 1, "artifact_name")),
        ("SM121", line_of(lines, 2, "artifact_name")),
        ("SM120", line_of(lines, 3)),
        ("SM122", line_of(lines, 4, "artifact_path")),
        ("SM113", line_of(lines, 5, "artifact_path")),
        ("SM132", line_of(lines, 5, "artifact_path")),
    }
    assert expected <= {(code, line) for code, line, *_ in shown}, shown

    # everything flymake shows is what `skillmeat-ls check` reports for the file
    assert sorted(shown) == sorted(
        (d["code"], d["line"], d["column"], SEVERITIES[d["severity"]], d["message"])
        for d in reported
    )

    # a .toml that is not a deployment file: managed by the same server, sent nothing
    assert result["other_managed"] is True and result["same_server"] is True, result
    assert result["answered"] is True, result
    assert result["other_diagnostics"] == [] and result["other_published"] is False, result
