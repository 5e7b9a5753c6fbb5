"""scripts/install_env.py: what `make demo` and `make test` run first, on whatever Python a newcomer has."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "install_env.py"
spec = importlib.util.spec_from_file_location("install_env", SCRIPT)
install_env = importlib.util.module_from_spec(spec)
spec.loader.exec_module(install_env)

DEBIAN_VENV_MESSAGE = """The virtual environment was not created successfully because ensurepip is not
available.  On Debian/Ubuntu systems, you need to install the python3-venv
package using the following command.

    apt install python3.11-venv
"""


def fake_python(tmp_path, venv_fails=True, probe_fails=False):
    """A 'python' like Debian's without python3-venv: `-m venv` half-makes the folder and fails."""
    script = tmp_path / "python"
    script.write_text(f"""#!{sys.executable}
import os, sys
if sys.argv[1:3] == ["-c", "import venv, ensurepip"]:
    sys.exit("ModuleNotFoundError: No module named 'ensurepip'" if {probe_fails} else 0)
if sys.argv[1:3] == ["-m", "venv"]:
    os.makedirs(os.path.join(sys.argv[3], "bin"))
    if {venv_fails}:
        sys.stdout.write({DEBIAN_VENV_MESSAGE!r})
        sys.exit(1)
os.execv({sys.executable!r}, [{sys.executable!r}] + sys.argv[1:])
""")
    script.chmod(0o755)
    return str(script)


def test_old_python_gets_one_sentence():
    assert "3.10 or newer" in install_env.version_problem((3, 9, 18))
    assert "PYTHON=" in install_env.version_problem((3, 8, 0))
    assert install_env.version_problem((3, 10, 0)) is None
    assert install_env.version_problem((3, 13, 0)) is None


def test_missing_venv_module_names_the_package_and_leaves_no_folder(tmp_path):
    venv = tmp_path / ".venv"
    with pytest.raises(install_env.InstallError) as exc:
        install_env.create_venv(venv, fake_python(tmp_path))
    message = str(exc.value)
    assert "\n" not in message
    assert f"sudo apt install python{sys.version_info[0]}.{sys.version_info[1]}-venv" in message
    assert "ensurepip is not" in message or "virtual environment" in message
    assert not venv.exists()


def test_missing_ensurepip_is_found_before_trying(tmp_path):
    venv = tmp_path / ".venv"
    with pytest.raises(install_env.InstallError, match="no venv/ensurepip module.*-venv"):
        install_env.create_venv(venv, fake_python(tmp_path, probe_fails=True))
    assert not venv.exists()


def test_the_whole_script_says_one_line_and_exits_1(tmp_path):
    done = subprocess.run([sys.executable, str(SCRIPT), "--venv", str(tmp_path / "v"),
                           "--python", fake_python(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: ") and "-venv" in done.stderr
    assert not (tmp_path / "v").exists()


def test_a_lock_that_cannot_install_falls_back_with_a_note(tmp_path, monkeypatch, capsys):
    calls = []

    def pip(venv, *args, quiet_output=False):
        calls.append(args)
        if "locks/py3.11.txt" in args:
            return False, ("ERROR: Ignored the following versions that require a different python "
                           "version: 4.1.3 Requires-Python >=3.11.5\nERROR: Could not find a "
                           "version that satisfies the requirement soupsieve==4.1.3\n")
        return True, ""
    monkeypatch.setattr(install_env, "pip", pip)
    used = install_env.install_requirements(tmp_path, "locks/py3.11.txt")
    assert used == ROOT / "requirements.txt"
    assert [a[-1] for a in calls] == ["locks/py3.11.txt", str(ROOT / "requirements.txt")]
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("note: locks/py3.11.txt does not install on Python")
    assert "soupsieve==4.1.3" in out[0] and "requirements.txt" in out[0]

    calls.clear()
    with pytest.raises(install_env.InstallError, match="exact lock .* does not install"):
        install_env.install_requirements(tmp_path, "locks/py3.11.txt", strict=True)
    assert len(calls) == 1                  # CI never falls back: it must install an exact set


def test_a_lock_that_installs_is_used_alone(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(install_env, "pip", lambda venv, *a, quiet_output=False:
                        calls.append(a) or (True, ""))
    assert install_env.install_requirements(tmp_path, "locks/py3.12.txt") == Path("locks/py3.12.txt")
    assert len(calls) == 1


def test_ci_is_strict(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(install_env, "create_venv", lambda venv, python=None: None)
    monkeypatch.setattr(install_env, "pip", lambda venv, *a, quiet_output=False: (True, ""))
    monkeypatch.setattr(install_env, "install_requirements",
                        lambda venv, lock, strict: seen.update(strict=strict) or ROOT / "x.txt")
    monkeypatch.setenv("CI", "true")
    assert install_env.main(["--venv", str(tmp_path)]) == 0 and seen["strict"]
    monkeypatch.delenv("CI")
    assert install_env.main(["--venv", str(tmp_path)]) == 0 and not seen["strict"]
