"""The README and docs point only at files that are in the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The project's own pages: not those of tools' hidden folders (.pytest_cache has a README).
DOCS = [ROOT / "README.md",
        *sorted(p for p in ROOT.glob("*/README.md") if not p.parent.name.startswith(".")),
        *sorted(ROOT.glob("docs/*.md"))]


def _repository_files() -> list[str]:
    """Every file's path in the checkout (not the virtual environment or caches)."""
    skip = {".venv", ".git", "__pycache__", ".pytest_cache", ".hypothesis", ".ruff_cache"}
    return [path.relative_to(ROOT).as_posix() for path in ROOT.rglob("*")
            if not skip.intersection(path.relative_to(ROOT).parts)]


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_and_named_files_exist(doc):
    text = doc.read_text(encoding="utf-8")
    assert "../shared" not in text
    targets = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)  # [text](target)
    local = [t for t in targets if not re.match(r"[a-z]+://|mailto:", t)]
    missing = [t for t in local if not (doc.parent / t).exists()]
    assert not missing, f"{doc.name} links to files not in the repository: {missing}"
    # files named in backticks, such as `minigrad/viz/graph.py` or `API.md`
    named = re.findall(r"`([\w./-]+\.(?:md|py|toml|png|svg))`", text)
    named += re.findall(r"(?<![\w./-])([\w./-]+\.md)\b", text)  # bare mentions: "see API.md"
    concrete = [n for n in named if "NN" not in n]  # not templates such as `_rules_NN.py`
    absent = [n for n in concrete if not (doc.parent / n).exists()
              and not any(path == n or path.endswith("/" + n) for path in _repository_files())]
    assert not absent, f"{doc.name} names files not in the repository: {absent}"
