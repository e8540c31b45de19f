"""Import boundaries: the library never imports streamlit; light paths never import TensorFlow."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "superconv").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_library_never_imports_streamlit(path):
    assert "streamlit" not in imported_modules(path)


@pytest.mark.parametrize(
    "statement",
    [
        "import superconv",
        "import superconv.schedules",
        "from superconv.cli import build_parser; build_parser()",
    ],
)
def test_light_imports_do_not_load_tensorflow(statement):
    code = f"{statement}; import sys; heavy = sorted(m for m in ('tensorflow', 'keras') if m in sys.modules); print(heavy)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
