"""Check albumlib's layout limits (issue 14): module and function sizes, private names across modules.

    python scripts/check_layout.py [--max-module 700] [--max-function 60]

Prints every module over --max-module lines, every function or method over --max-function lines,
and every use of another albumlib module's private (_underscore) name, then exits 1 if any.
tests/test_layout.py runs the same checks.
"""

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "albumlib"


def modules():
    """albumlib's source files, sorted."""
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def long_functions(path, limit):
    """(qualified name, lines) of each function of a file longer than `limit` lines."""
    tree, out = ast.parse(path.read_text(encoding="utf-8")), []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    n = child.end_lineno - child.lineno + 1
                    if n > limit:
                        out.append((name, n))
                visit(child, name + ".")
    visit(tree, "")
    return out


def _imported_modules(tree):
    """Local names bound to albumlib modules by `import`/`from ... import` in a tree."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(
                "albumlib")):
            for a in node.names:
                names[a.asname or a.name] = a.name
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("albumlib"):
                    names[a.asname or a.name.split(".")[0]] = a.name
    return names


def private_reaches(path):
    """(line, text) of each use of another module's _private name in a file."""
    tree, out = ast.parse(path.read_text(encoding="utf-8")), []
    mods = _imported_modules(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith(
                "albumlib")):
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    out.append((node.lineno, f"from {node.module or '.'} import {a.name}"))
        elif (isinstance(node, ast.Attribute) and node.attr.startswith("_")
              and not node.attr.startswith("__") and isinstance(node.value, ast.Name)
              and node.value.id in mods):
            out.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return out


def problems(max_module=700, max_function=60):
    """Every breach of the limits, as lines of text."""
    out = []
    for path in modules():
        rel = path.relative_to(ROOT)
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > max_module:
            out.append(f"{rel}: {n} lines (over {max_module})")
        out += [f"{rel}: {name}() is {k} lines (over {max_function})"
                for name, k in long_functions(path, max_function)]
        out += [f"{rel}:{line}: uses another module's private name: {text}"
                for line, text in private_reaches(path)]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-module", type=int, default=700)
    ap.add_argument("--max-function", type=int, default=60)
    args = ap.parse_args(argv)
    found = problems(args.max_module, args.max_function)
    print("\n".join(found) or "albumlib is within the layout limits")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
