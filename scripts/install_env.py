"""Make the project's virtual environment (what `make install`, `make demo` and `make test` run first).

    python3 scripts/install_env.py --venv .venv [--lock locks/py3.11.txt] [--strict-lock]

Standard library only, run by the interpreter the user chose (PYTHON=...). Steps: check the Python
version; create the venv (or say in one line what to install when `venv`/`ensurepip` is missing,
leaving no half-made folder); install the exact lock where it installs on this Python, else
requirements.txt's ranges with a one-line note (`--strict-lock`, or CI=true, makes a lock that does
not install an error: CI must install an exact set); install albumlib itself in editable mode.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MIN_VERSION = (3, 10)


class InstallError(Exception):
    """A failed step, said in one line."""


def version_problem(version=None):
    """The one sentence for a Python that is too old, or None."""
    version = tuple(version or sys.version_info[:3])
    if version[:2] >= MIN_VERSION:
        return None
    return ("Python %d.%d or newer is needed (this is %s); set PYTHON=python3.X, e.g. "
            "`make test PYTHON=python3.11`" % (MIN_VERSION + (".".join(map(str, version)),)))


def venv_hint(python_version=None):
    """What to install where `python -m venv` does not work (Debian and Ubuntu split it off)."""
    major, minor = (python_version or sys.version_info)[:2]
    return ("install the venv module: `sudo apt install python%d.%d-venv` on Debian/Ubuntu "
            "(or use another Python: PYTHON=python3.X), then run make again" % (major, minor))


def _last_error(text):
    """The most telling line of a failed tool's output, shortened to one line."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("ERROR") or "Error" in line or "error" in line]
    line = (errors or lines or ["(no output)"])[-1]
    return line if len(line) <= 300 else line[:297] + "..."


def create_venv(venv, python=None):
    """Create the virtual environment at venv, or raise InstallError naming what to install."""
    python = python or sys.executable
    venv = Path(venv)
    if (venv / "bin" / "python").exists():
        return
    existed = venv.exists()
    probe = subprocess.run([python, "-c", "import venv, ensurepip"], capture_output=True, text=True)
    if probe.returncode != 0:
        raise InstallError("%s cannot make virtual environments (no venv/ensurepip module): %s"
                           % (python, venv_hint()))
    made = subprocess.run([python, "-m", "venv", str(venv)], capture_output=True, text=True)
    if made.returncode != 0 or not (venv / "bin" / "python").exists():
        if not existed:
            shutil.rmtree(venv, ignore_errors=True)
        said = [line.strip() for line in (made.stdout + made.stderr).splitlines() if line.strip()]
        raise InstallError("`%s -m venv %s` failed (%s): %s"
                           % (python, venv, (said or ["no message"])[0], venv_hint()))


def pip(venv, *args, quiet_output=False):
    """Run the venv's pip; return (ok, output). The output is shown unless quiet_output."""
    cmd = [str(Path(venv) / "bin" / "python"), "-m", "pip", *args]
    if not quiet_output:
        return subprocess.run(cmd).returncode == 0, ""
    done = subprocess.run(cmd, capture_output=True, text=True)
    return done.returncode == 0, done.stdout + done.stderr


def install_requirements(venv, lock=None, strict=False):
    """Install the lock if it installs here, else requirements.txt; return the file installed."""
    python_version = ".".join(map(str, sys.version_info[:3]))
    if lock:
        ok, output = pip(venv, "install", "--quiet", "-r", str(lock), quiet_output=True)
        if ok:
            return Path(lock)
        if strict:
            sys.stderr.write(output)
            raise InstallError("the exact lock %s does not install on Python %s (%s)"
                               % (lock, python_version, _last_error(output)))
        print("note: %s does not install on Python %s (%s); installing requirements.txt's "
              "version ranges instead" % (lock, python_version, _last_error(output)), flush=True)
    if not pip(venv, "install", "--quiet", "-r", str(ROOT / "requirements.txt"))[0]:
        raise InstallError("pip could not install requirements.txt (see pip's message above)")
    return ROOT / "requirements.txt"


def main(argv=None):
    """Check, create, install; one line on stderr and exit 1 on any failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default=".venv", help="the virtual environment's folder")
    parser.add_argument("--lock", help="exact versions to try first (locks/pyX.Y.txt)")
    parser.add_argument("--strict-lock", action="store_true",
                        help="fail instead of falling back when the lock does not install (CI=true sets it)")
    parser.add_argument("--python", help="the interpreter that makes the venv (default: this one)")
    args = parser.parse_args(argv)
    problem = version_problem()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    strict = args.strict_lock or os.environ.get("CI", "").lower() == "true"
    try:
        create_venv(args.venv, args.python)
        if not pip(args.venv, "install", "--quiet", "--upgrade", "pip")[0]:
            raise InstallError("pip could not upgrade itself in %s (see pip's message above)" % args.venv)
        lock = args.lock if args.lock and Path(args.lock).exists() else None
        used = install_requirements(args.venv, lock, strict)
        # (captured: setuptools warns about every editable install with a package-dir mapping)
        ok, output = pip(args.venv, "install", "--quiet", "--no-deps", "-e", str(ROOT), quiet_output=True)
        if not ok:
            sys.stderr.write(output)
            raise InstallError("pip could not install albumlib itself (see pip's message above)")
    except InstallError as exc:
        print("error: %s" % exc, file=sys.stderr)
        return 1
    print("installed %s into %s" % (os.path.relpath(used, ROOT), args.venv), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
