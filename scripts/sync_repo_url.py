"""Write the repository's address into every notebook (Colab badge, REPO_URL) and the README.

The address is kept in one place, pyproject.toml:

    [project.urls]
    Repository = "https://github.com/OWNER/NAME"

A fork changes that line and runs `python scripts/sync_repo_url.py`; `--check` only lists what
differs (tests/test_notebook_setup.py fails while anything does). Notebooks are rewritten with
nbformat (cell ids and everything else kept), only where something changes.
"""

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BRANCH = "main"                                   # the branch the Colab badges open
BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^/\s\"')]+/[^/\s\"')]+/blob/"
                   r"[^/\s\"')]+/notebooks/(?P<name>[^\s\"')]+\.ipynb)")
REPO_LINE = re.compile(r'^REPO_URL = "[^"]*"', re.M)


def repository_url(root=ROOT):
    """The Repository entry of pyproject.toml's [project.urls] table."""
    text = (Path(root) / "pyproject.toml").read_text(encoding="utf-8")
    table = re.search(r"^\[project\.urls\]\s*$(.*?)(?=^\[|\Z)", text, re.M | re.S)
    match = table and re.search(r'^Repository\s*=\s*"([^"]+)"', table.group(1), re.M)
    if not match:
        raise SystemExit("pyproject.toml has no [project.urls] Repository = \"https://github.com/...\"")
    url = match.group(1).rstrip("/").removesuffix(".git")
    if not re.fullmatch(r"https://github\.com/[^/\s]+/[^/\s]+", url):
        raise SystemExit(f"Repository = {url!r}: expected https://github.com/OWNER/NAME "
                         f"(Colab opens notebooks from GitHub)")
    return url


def colab_url(url, name, branch=BRANCH):
    """The Open-in-Colab address of notebooks/<name> in the repository at `url`."""
    return f"https://colab.research.google.com/github/{url.removeprefix('https://github.com/')}" \
           f"/blob/{branch}/notebooks/{name}"


def _synced_text(text, url):
    text = BADGE.sub(lambda m: colab_url(url, m.group("name")), text)
    return REPO_LINE.sub(f'REPO_URL = "{url}"', text)


def synced_notebook(path, url):
    """The notebook's text with its badge and REPO_URL line from `url`, or None if already so."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    changed = False
    for cell in nb.cells:
        new = _synced_text(cell.source, url)
        changed, cell.source = changed or new != cell.source, new
    text = nbformat.writes(nb)
    return (text if text.endswith("\n") else text + "\n") if changed else None


def sync(root=ROOT, write=True):
    """Bring the notebooks and README.md in line with pyproject.toml; return the files that differed."""
    root = Path(root)
    url = repository_url(root)
    changed = []
    for path in sorted((root / "notebooks").glob("*.ipynb")) + [root / "README.md"]:
        if not path.is_file():
            continue
        if path.suffix == ".ipynb":
            new = synced_notebook(path, url)
        else:
            old = path.read_text(encoding="utf-8")
            new = _synced_text(old, url)
            new = None if new == old else new
        if new is not None:
            changed.append(path)
            if write:
                path.write_bytes(new.encode("utf-8"))
    return changed


def main(argv=None):
    """Rewrite (or with --check, list) the files whose repository address differs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="list what differs, change nothing")
    parser.add_argument("--root", default=str(ROOT), help="the project folder (default: this one)")
    args = parser.parse_args(argv)
    changed = sync(args.root, write=not args.check)
    url = repository_url(args.root)
    for path in changed:
        print(f"{path}: {'differs from' if args.check else 'now uses'} {url}")
    if not changed:
        print(f"every notebook and the README use {url}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
