"""The rooms of the code (issue 18): imports only run downwards, no import circles, and no module
imports another module's private names. The contracts are in pyproject.toml ([tool.importlinter]);
`lint-imports` prints the offending chains when one breaks."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "storage")


def test_import_contracts_are_kept() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is in the test extras: pip install -e .[test]"
    run = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "2 kept, 0 broken" in run.stdout


def _python_files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("path", _python_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_private_names_imported_across_modules(path: Path) -> None:
    """`from x import _y` couples a module to another's internals: make the name public instead."""
    tree = ast.parse(path.read_text(), filename=str(path))
    private = [f"line {node.lineno}: from {node.module} import {alias.name}"
               for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
               and node.module.split(".")[0] in PACKAGES
               for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")]
    assert not private, private


def test_the_contract_sees_a_circle(tmp_path: Path) -> None:
    """The acyclic contract really fails on a circle (a lazy import inside a function counts)."""
    for pkg in ("demo", "demo/a", "demo/b"):
        (tmp_path / pkg).mkdir()
        (tmp_path / pkg / "__init__.py").write_text("")
    (tmp_path / "demo/a/one.py").write_text("from demo.b import two\n")
    (tmp_path / "demo/b/two.py").write_text("def f():\n    from demo.a import one\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.importlinter]\nroot_packages = ["demo"]\n\n[[tool.importlinter.contracts]]\nname = "acyclic"\n'
        'type = "acyclic_siblings"\nancestors = ["demo"]\n')
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe
    run = subprocess.run([exe, "--no-cache"], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 1 and "BROKEN" in run.stdout, run.stdout + run.stderr
