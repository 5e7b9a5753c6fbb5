"""Import a file of scripts/ as a module, for the tests of build-time code."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_script(stem):
    """scripts/<stem>.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(stem, ROOT / "scripts" / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
