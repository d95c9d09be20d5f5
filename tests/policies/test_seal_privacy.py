"""The posting seal is private to the policies package: no other code may name it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEAL_NAMES = {"_SEAL", "POSTING_SEAL"}
# The policy code holds the seal; its own tests check that copies of it are refused.
ALLOWED = {ROOT / "policies" / "postings.py", ROOT / "tests" / "policies" / "test_postings.py"}


def _python_files() -> list[Path]:
    skipped = {".venv", ".git", "node_modules", "data", "artifacts"}
    return [
        path
        for path in ROOT.rglob("*.py")
        if not skipped & set(path.relative_to(ROOT).parts) and path not in ALLOWED
    ]


def _seal_uses(path: Path) -> list[int]:
    """Returns the lines where a file names the seal: as a name, an attribute or an import."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", None)
        if isinstance(node, ast.alias):
            name = node.name.rsplit(".", 1)[-1]
        if name in SEAL_NAMES:
            lines.append(getattr(node, "lineno", 0))
    return lines


def test_no_module_outside_the_policy_code_names_the_seal() -> None:
    """An AST scan of every Python file finds the seal's name only where the gate issues it."""
    uses = [
        f"{path.relative_to(ROOT)}:{line}" for path in _python_files() for line in _seal_uses(path)
    ]
    assert uses == []


def test_the_scan_would_see_a_forged_posting(tmp_path: Path) -> None:
    """The scan catches the ways code could reach the seal: attribute, import and plain name."""
    forged = tmp_path / "forged.py"
    forged.write_text(
        "from policies.postings import _SEAL\n"
        "import policies.postings as p\n"
        "seal = p._SEAL\n"
        "other = POSTING_SEAL\n"
    )
    assert _seal_uses(forged) == [1, 3, 4]
