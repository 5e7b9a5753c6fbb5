"""One source of truth for the code the notebooks teach and the library runs (d2l's `#@save`).

    python scripts/notebook_code.py            # list what differs; exit 1 if anything does
    python scripts/notebook_code.py --write    # copy the notebooks' versions into the library

A notebook code cell whose first line is `#@save albumlib.style.losses` holds code that the
library runs: every function, class and top-level constant it defines must stand, character for
character, in that module. tests/test_notebook_code.py fails when they differ, so the notebook
cannot teach one version while the library runs another. Edit either side, then run this script
with --write (notebook -> library) or fix the notebook by hand.
"""

import argparse
import ast
import json
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "#@save"


@dataclass
class Saved:
    """One definition from a #@save cell: where it is taught and where the library keeps it."""
    notebook: str
    cell: int
    module: str
    name: str
    source: str


def _definitions(tree, text):
    """{name: source} of the top-level functions, classes and simple assignments of a module."""
    out = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names = [node.name]
        elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            names = [t.id for t in node.targets]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names = [node.target.id]
        else:
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        lines = text.splitlines()[first - 1:node.end_lineno]
        for name in names:
            out[name] = (first, node.end_lineno, "\n".join(lines))
    return out


def saved_cells(notebook):
    """The #@save cells of one notebook -> [Saved] (one per definition)."""
    nb = json.loads(Path(notebook).read_text(encoding="utf-8"))
    found = []
    for i, cell in enumerate(nb["cells"]):
        text = "".join(cell["source"]) if cell["cell_type"] == "code" else ""
        first = text.split("\n", 1)[0].strip()
        if not first.startswith(MARK):
            continue
        module = first[len(MARK):].strip()
        if not module:
            raise ValueError(f"{Path(notebook).name} cell {i}: `{MARK}` must name its module")
        body = textwrap.dedent(text.split("\n", 1)[1] if "\n" in text else "")
        for name, (_, _, src) in _definitions(ast.parse(body), body).items():
            found.append(Saved(Path(notebook).name, i, module, name, src))
    return found


def module_file(module):
    """albumlib.style.losses -> ROOT/albumlib/style/losses.py."""
    return ROOT.joinpath(*module.split(".")).with_suffix(".py")


def differences(notebooks=None):
    """[(Saved, why)] for every saved definition the library lacks or holds differently."""
    notebooks = notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    out = []
    for nb in notebooks:
        for saved in saved_cells(nb):
            path = module_file(saved.module)
            if not path.is_file():
                out.append((saved, f"no module {saved.module}"))
                continue
            text = path.read_text(encoding="utf-8")
            lib = _definitions(ast.parse(text), text).get(saved.name)
            if lib is None:
                out.append((saved, f"{saved.module} has no {saved.name}"))
            elif lib[2] != saved.source:
                out.append((saved, f"{saved.module}.{saved.name} differs from the notebook's"))
    return out


def write(saved):
    """Replace the library's version of one definition with the notebook's."""
    path = module_file(saved.module)
    text = path.read_text(encoding="utf-8")
    first, last, _ = _definitions(ast.parse(text), text)[saved.name]
    lines = text.splitlines()
    lines[first - 1:last] = saved.source.splitlines()
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None):
    """List (or fix, with --write) what differs between the notebooks and the library."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true",
                        help="copy the notebooks' versions into the library")
    args = parser.parse_args(argv)
    diffs = differences()
    for saved, why in diffs:
        print(f"{saved.notebook} cell {saved.cell}: {why}")
        if args.write and "differs" in why:
            write(saved)
    if args.write:
        diffs = differences()
    print(f"{len(diffs)} difference(s)" if diffs else "notebooks and library agree")
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
