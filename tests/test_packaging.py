"""requirements.txt, environment.yml, the CI lock and the Makefile agree with each other."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _requirement_lines(text):
    return {line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()}


def test_environment_yml_pip_section_equals_requirements():
    reqs = _requirement_lines((ROOT / "requirements.txt").read_text())
    env = (ROOT / "environment.yml").read_text()
    pip_section = env.split("- pip:", 1)[1]
    pip_reqs = {m.group(1).strip() for m in re.finditer(r"^\s+-\s+(\S.*)$", pip_section, re.M)}
    assert pip_reqs == reqs


def test_requirements_have_lower_bounds_only():
    for line in _requirement_lines((ROOT / "requirements.txt").read_text()):
        assert ">=" in line and "==" not in line and "<" not in line, line


def test_locks_pin_every_requirement_exactly_for_each_python():
    locks = sorted((ROOT / "locks").glob("py3.*.txt"))
    assert [p.name for p in locks] == ["py3.10.txt", "py3.11.txt", "py3.12.txt", "py3.13.txt"]
    for path in locks:
        text = path.read_text()
        assert "oldest patch release" in text.splitlines()[1] or "oldest patch release" in text[:300]
        lock = _requirement_lines(text)
        pinned = {re.split("==", line)[0].lower().replace("_", "-") for line in lock}
        assert all("==" in line for line in lock), path.name
        for line in _requirement_lines((ROOT / "requirements.txt").read_text()):
            name = line.split(">=")[0].lower()
            name = "tensorflow-cpu" if name == "tensorflow" else name
            assert name in pinned, f"{name} is not pinned in {path.name}"


def test_makefile_installs_through_the_script_that_falls_back():
    makefile = (ROOT / "Makefile").read_text()
    assert "scripts/install_env.py --venv $(VENV)" in makefile
    assert "LOCK ?= $(wildcard locks/py$(PYVER).txt)" in makefile


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert "make test" in readme and "make demo" in readme


def test_notebooks_committed_without_outputs():
    import json
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        assert "widgets" not in nb.get("metadata", {}), path.name
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell.get("outputs") and cell.get("execution_count") is None, path.name


def test_every_data_folder_ships_in_the_wheel():
    text = (ROOT / "pyproject.toml").read_text()   # (tomllib is Python 3.11+; we support 3.10)
    assert '"albumlib.data" = "data"' in text
    packages = re.search(r"^packages = \[(.*?)\]", text, re.S | re.M).group(1)
    listed = set(re.findall(r'"albumlib\.data\.(\w+)"', packages))
    folders = {p.name for p in (ROOT / "data").iterdir() if p.is_dir()}
    assert folders == listed
    assert all(f'"albumlib.data.{name}" = ["*"]' in text for name in folders)
