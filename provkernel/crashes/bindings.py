"""Which top-level names a cell's code binds, deletes or mutates in place (static, from the AST).

Used to build a :class:`~provkernel.crashes.context.CrashContext` from a saved notebook. IPython
syntax (``%magic``, ``!shell``, ``x = !cmd``, ``%%time``) is neutralised before parsing; code that
still does not parse falls back to a line-based scan of simple statements.
"""

from __future__ import annotations

import ast
import re
from typing import NamedTuple

from provkernel.crashes.context import (
    ASSIGN,
    CLASS,
    DEF,
    DELETE,
    FOR,
    IMPORT,
    INPLACE,
    UPDATE,
    WITH,
    Binding,
    Execution,
    FileAccess,
)

# Methods that remove data from the object they are called on (a re-run then finds it gone).
DESTRUCTIVE_METHODS = frozenset({"pop", "popitem", "remove", "clear"})
_SHELL_ASSIGN = re.compile(r"^(\s*[\w.,\s]+=\s*)[!%].*$")
_SIMPLE = re.compile(
    r"^(?:(?P<def>def|class)\s+(?P<defname>\w+)"
    r"|import\s+(?P<imports>[\w.]+(?:\s*,\s*[\w.]+)*)(?:\s+as\s+(?P<alias>\w+))?\s*(?:#.*)?$"
    r"|from\s+(?P<from>[\w.]+)\s+import\s+(?P<names>[\w, ]+)|(?P<target>\w+)\s*(?:[:][^=]*)?=(?!=))"
)


class Bound(NamedTuple):
    """One binding event found in code: see :class:`provkernel.crashes.context.Binding` for the kinds."""

    name: str
    kind: str
    line: int
    module: str | None = None
    operation: str | None = None


def python_source(code: str) -> str:
    """The cell's code with IPython-only syntax replaced by equivalent-length no-ops."""
    lines = code.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].split()[0]
        if magic not in {"%%time", "%%timeit", "%%capture", "%%prun"}:
            return ""  # %%bash, %%writefile …: not Python
        lines = ["", *lines[1:]]
    cleaned = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if stripped.startswith(("%", "!")) or stripped.endswith("?") and not stripped.startswith("#"):
            cleaned.append(f"{indent}pass")
        elif _SHELL_ASSIGN.match(line) and re.search(r"=\s*[!%]", line):
            cleaned.append(re.sub(r"=\s*[!%].*$", "= None", line))
        else:
            cleaned.append(line)
    return "\n".join(cleaned)


def _root(node: ast.AST) -> str | None:
    """``df`` for ``df``, ``df.a``, ``df['x'][0]``."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _targets(node: ast.AST, kind: str, line: int) -> list[Bound]:
    if isinstance(node, ast.Name):
        return [Bound(node.id, kind, line)]
    if isinstance(node, ast.Tuple | ast.List):
        return [b for element in node.elts for b in _targets(element, kind, line)]
    if isinstance(node, ast.Starred):
        return _targets(node.value, kind, line)
    root = _root(node)
    return [Bound(root, UPDATE, line)] if root else []


class _Collector(ast.NodeVisitor):
    """Collects module-level bindings; does not descend into function or class bodies."""

    def __init__(self) -> None:
        self.found: list[Bound] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.found.append(Bound(node.name, DEF, node.lineno))

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.found.append(Bound(node.name, CLASS, node.lineno))

    def visit_Lambda(self, node: ast.Lambda) -> None:
        return

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.found.append(Bound(alias.asname, IMPORT, node.lineno, alias.name))
            else:
                root = alias.name.split(".")[0]
                self.found.append(Bound(root, IMPORT, node.lineno, root))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name != "*":
                self.found.append(
                    Bound(alias.asname or alias.name, IMPORT, node.lineno, f"{module}:{alias.name}")
                )

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.found.extend(_targets(target, ASSIGN, node.lineno))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self.visit(node.value)
            self.found.extend(_targets(node.target, ASSIGN, node.lineno))

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        root = _root(node.target)
        if root:
            self.found.append(Bound(root, UPDATE, node.lineno))

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.found.append(Bound(node.target.id, ASSIGN, node.lineno))

    def visit_For(self, node: ast.For) -> None:
        self.visit(node.iter)
        self.found.extend(_targets(node.target, FOR, node.lineno))
        for statement in node.body + node.orelse:
            self.visit(statement)

    visit_AsyncFor = visit_For  # type: ignore[assignment]

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.found.extend(_targets(item.optional_vars, WITH, node.lineno))
        for statement in node.body:
            self.visit(statement)

    visit_AsyncWith = visit_With  # type: ignore[assignment]

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.found.append(Bound(target.id, DELETE, node.lineno))
            elif (root := _root(target)) is not None:
                self.found.append(Bound(root, INPLACE, node.lineno, operation="del item"))

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        if not isinstance(node.func, ast.Attribute):
            return
        root = _root(node.func.value)
        if root is None:
            return
        method = node.func.attr
        inplace = any(
            k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        )
        if inplace or method in DESTRUCTIVE_METHODS:
            operation = f"{method}(inplace=True)" if inplace else method
            self.found.append(Bound(root, INPLACE, node.lineno, operation=operation))

    def visit_ListComp(self, node: ast.ListComp) -> None:
        for generator in node.generators:
            self.visit(generator.iter)

    visit_SetComp = visit_GeneratorExp = visit_DictComp = visit_ListComp  # type: ignore[assignment]


def bindings_in(code: str) -> list[Bound]:
    """Top-level bindings, deletions and in-place mutations performed by ``code``, in source order.

    >>> [(b.name, b.kind) for b in bindings_in("import numpy as np\\nx = np.ones(3)\\ndel x")]
    [('np', 'import'), ('x', 'assign'), ('x', 'del')]
    """
    source = python_source(code)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return _scan_lines(source)
    collector = _Collector()
    for statement in tree.body:
        collector.visit(statement)
    return sorted(collector.found, key=lambda b: b.line)


def _scan_lines(source: str) -> list[Bound]:
    """A forgiving line scan for code that does not parse: simple unindented statements only."""
    found = []
    for number, line in enumerate(source.splitlines(), 1):
        match = _SIMPLE.match(line)
        if not match:
            continue
        if match.group("def"):
            found.append(Bound(match.group("defname"), DEF if match.group("def") == "def" else CLASS, number))
        elif match.group("imports"):
            modules = [m.strip() for m in match.group("imports").split(",") if m.strip()]
            if match.group("alias") and len(modules) == 1:
                found.append(Bound(match.group("alias"), IMPORT, number, modules[0]))
            else:
                found.extend(Bound(m.split(".")[0], IMPORT, number, m.split(".")[0]) for m in modules)
        elif match.group("from"):
            for part in match.group("names").split(","):
                words = part.split()
                if words:
                    found.append(Bound(words[-1], IMPORT, number, f"{match.group('from')}:{words[0]}"))
        elif match.group("target"):
            found.append(Bound(match.group("target"), ASSIGN, number))
    return found


_READERS = frozenset(
    [
        "open",
        "read_csv",
        "read_excel",
        "read_json",
        "read_parquet",
        "read_table",
        "read_pickle",
        "read_feather",
        "read_hdf",
        "load",
        "loadtxt",
        "genfromtxt",
        "imread",
        "load_model",
        "load_img",
        "load_workbook",
        "File",
    ]
)
_WRITERS = frozenset(
    [
        "to_csv",
        "to_excel",
        "to_json",
        "to_parquet",
        "to_pickle",
        "to_feather",
        "to_hdf",
        "save",
        "savez",
        "savetxt",
        "savefig",
        "imwrite",
        "dump",
        "save_model",
        "save_weights",
    ]
)


def file_literals(code: str) -> list[tuple[str, str, int]]:
    """Literal file paths the code reads or writes: ``(path, "r" | "w", line)``, from well-known I/O calls.

    >>> file_literals("df = pd.read_csv('train.csv')\\ndf.to_csv('clean.csv')")
    [('train.csv', 'r', 1), ('clean.csv', 'w', 2)]
    """
    try:
        tree = ast.parse(python_source(code))
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        literals = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if not literals or name not in _READERS | _WRITERS:
            continue
        mode = "w" if name in _WRITERS else "r"
        if name == "open" and len(literals) > 1 and any(c in literals[1] for c in "wax"):
            mode = "w"
        found.append((literals[0], mode, node.lineno))
    return sorted(found, key=lambda item: item[2])


def code_facts(execution: Execution) -> tuple[list[Binding], list[tuple[str, str]], list[FileAccess]]:
    """What an execution's code binds, the (alias, module) pairs of its imports, and the data files it
    names: the facts a saved notebook gives of a cell."""
    bindings, aliases = [], []
    for bound in bindings_in(execution.code):
        bindings.append(Binding(bound.name, bound.kind, execution, bound.module, bound.operation, bound.line))
        if bound.kind == IMPORT and bound.module:
            aliases.append((bound.name, bound.module))
    files = [FileAccess(path, execution, mode) for path, mode, _line in file_literals(execution.code)]
    return bindings, aliases, files
