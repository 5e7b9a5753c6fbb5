"""Remove outputs, execution counts and widget state from notebooks, in place (`make strip-notebooks`)."""

import sys

import nbformat

from albumlib.fileio import atomic_write_bytes


def strip(path):
    """Strip one notebook; return True if it changed."""
    nb = nbformat.read(path, as_version=4)
    before = nbformat.writes(nb)
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    after = nbformat.writes(nb)
    if after != before:
        atomic_write_bytes(path, (after if after.endswith("\n") else after + "\n").encode("utf-8"))
        return True
    return False


def main(paths):
    """Strip each notebook named on the command line."""
    for path in paths:
        print(f"{path}: {'stripped' if strip(path) else 'already clean'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
