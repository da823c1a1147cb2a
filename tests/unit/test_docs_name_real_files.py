"""Every file the docs name exists: a path written in README.md or docs/*.md (in backticks) names a file or
folder of this repository, from its root or from the package's (`adapters/pacing.py` is pastdue/adapters/...),
and a bare file name names a file somewhere in it. A rename that forgets the docs fails here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
EXTENSIONS = "py|js|mjs|bicep|json|yaml|yml|md|j2|toml|txt|html|css|sh|cfg|ini"
NAMED = re.compile(rf"`([\w.~/-]+\.(?:{EXTENSIONS}))(?::\d+)?`")
FOLDER = re.compile(r"`((?:[\w.-]+/)+)`")
# Where a relative path may start: the root, and the folders the docs speak from.
BASES = ("", "pastdue/", "pastdue/domain/", "pastdue/adapters/", "pastdue/services/", "tests/", "infra/", "docs/")
# Named on purpose though not in the repository: files a user makes, or the real services' own.
ELSEWHERE = {"local.settings.json", "host.log", "report.json"}
# What a command writes (the folders .gitignore keeps out), and URL paths the local host serves.
WRITTEN = tuple(
    line.strip()
    for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    if line.strip().endswith("/")
)


def _files() -> set[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return set(listed.split())


def _missing(text: str, files: set[str]) -> list[str]:
    names = {Path(f).name for f in files}
    folders = {str(Path(f).parent) + "/" for f in files} | {
        "/".join(f.split("/")[:n]) + "/" for f in files for n in range(1, f.count("/") + 1)
    }
    missing = []
    for name in NAMED.findall(text):
        if name in ELSEWHERE or name.startswith(("http", "~", "/", *WRITTEN)) or "<" in name or "*" in name:
            continue
        if "/" in name.strip("/"):
            if not any(base + name.lstrip("./") in files for base in BASES):
                missing.append(name)
        elif name not in names:
            missing.append(name)
    for folder in FOLDER.findall(text):
        if folder.startswith(("/", *WRITTEN)):
            continue
        if not any(base + folder.lstrip("./") in folders for base in BASES):
            missing.append(folder)
    return missing


def test_every_path_the_docs_name_is_a_file_of_the_repository():
    files = _files()
    missing = {str(doc.relative_to(ROOT)): _missing(doc.read_text(encoding="utf-8"), files) for doc in DOCS}
    assert {doc: names for doc, names in missing.items() if names} == {}


def test_the_check_finds_a_path_that_is_not_there():
    files = _files()
    assert _missing("see `pastdue/domain/no_such_module.py` and `adapters/pacing.py`", files) == [
        "pastdue/domain/no_such_module.py"
    ]
    assert _missing("the `nowhere/` folder and `functions/`", files) == ["nowhere/"]
