"""mawa/names is a pure library: it must never import Django."""

import ast
import subprocess
import sys
from pathlib import Path

import mawa.names

PACKAGE = Path(mawa.names.__file__).parent


def test_no_module_in_the_package_imports_django():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n == "django" or n.startswith("django.") for n in names), path


def test_importing_the_library_and_cli_loads_no_django():
    code = "import sys, mawa.names, mawa.names.cli; print('django' in sys.modules)"
    root = PACKAGE.parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert out.stdout.strip() == "False"


def test_public_api_is_listed_and_documented():
    for name in mawa.names.__all__:
        obj = getattr(mawa.names, name)
        assert obj.__doc__, name
