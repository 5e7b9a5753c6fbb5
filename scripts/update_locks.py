"""Regenerate the exact locks locks/py3.10.txt ... py3.13.txt from requirements.txt (`make lock`).

Each lock is resolved by uv for the *oldest* patch release of its minor version (uv's
--python-version 3.X means 3.X.0 and later), so that a distribution's own older build (Debian 12's
3.11.2, say) installs it too; tensorflow is replaced by tensorflow-cpu (CI has no GPU) and the
platform is Linux x86-64. Versions already in a lock are kept where they still fit (uv prefers the
output file's pins), so a regeneration moves only what must move. Needs `uv` (pip install uv).
"""

import argparse
import datetime
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ("3.10", "3.11", "3.12", "3.13")
PLATFORM = "x86_64-manylinux_2_28"


def header(version):
    """The comment block that opens a lock."""
    return ("# Exact versions for Python %s.0 and later on Linux x86-64 (requirements.txt with tensorflow-cpu),\n"
            "# resolved by uv for the oldest patch release on %s. Regenerate: `make lock` "
            "(scripts/update_locks.py).\n" % (version, datetime.date.today().isoformat()))


def compile_lock(version, uv="uv"):
    """Resolve requirements.txt for one Python minor version into locks/pyX.Y.txt."""
    lock = ROOT / "locks" / ("py%s.txt" % version)
    reqs = (ROOT / "requirements.txt").read_text().replace("tensorflow>=", "tensorflow-cpu>=")
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "requirements-cpu.in", Path(tmp) / lock.name
        src.write_text(reqs)
        seed = lock if lock.exists() else ROOT / "locks" / "py3.11.txt"
        if seed.exists():
            shutil.copyfile(seed, out)      # uv keeps these pins where they still resolve
        subprocess.run([uv, "pip", "compile", str(src), "--python-version", version,
                        "--python-platform", PLATFORM, "--no-header", "--no-annotate",
                        "--quiet", "-o", str(out)], check=True)
        pins = [line for line in out.read_text().splitlines() if line and not line.startswith("#")]
    lock.write_text(header(version) + "\n".join(pins) + "\n")
    return lock


def main(argv=None):
    """Regenerate the chosen locks (default: all)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("versions", nargs="*", default=list(VERSIONS))
    beside = Path(sys.executable).with_name("uv")       # `make lock` installs it in the venv
    parser.add_argument("--uv", default=str(beside) if beside.exists() else shutil.which("uv") or "uv",
                        help="the uv executable")
    args = parser.parse_args(argv)
    for version in args.versions:
        print("wrote", compile_lock(version, args.uv).relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
