"""The AST walk behind :func:`provkernel.capture.analysis.analyze`: bindings, reads, in-place changes,
calls, and the facts of every function body, in evaluation order."""

from __future__ import annotations

import ast

from provkernel.capture.facts import BUILTIN_NAMES, Import, ScopeFacts, Update

# Calls that only read or export their receiver, though their result is discarded (``df.to_csv(p)``,
# ``model.save(p)``, ``df.head()``): not updates.
READ_ONLY_METHODS = frozenset(
    {
        "head",
        "tail",
        "describe",
        "info",
        "plot",
        "hist",
        "show",
        "savefig",
        "save",
        "print",
        "display",
        "count",
        "copy",
        "predict",
        "predict_proba",
        "score",
        "summary",
        "write",
        "dump",
        "keys",
        "values",
        "items",
        "get",
        "sum",
        "mean",
        "std",
        "min",
        "max",
        "shape",
        "close",
        "join_thread",
        "log",
        "debug",
        "warning",
        "error",
    }
)
READ_ONLY_PREFIXES = ("to_", "get_", "is_", "has_", "plot_", "show_", "save_", "print_", "export_", "write_")


def _is_read_only(method: str) -> bool:
    return method in READ_ONLY_METHODS or method.startswith(READ_ONLY_PREFIXES)


def literal_source(node: ast.expr) -> str | None:
    """Source of ``node`` if it is a Python literal (papermill's parameter kinds), else None."""
    if _is_literal(node):
        return ast.unparse(node)
    return None


def _is_literal(node: ast.expr) -> bool:
    match node:
        case ast.Constant():
            return True
        case ast.UnaryOp(op=ast.USub() | ast.UAdd(), operand=ast.Constant(value=int() | float())):
            return True
        case ast.Tuple(elts=elts) | ast.List(elts=elts) | ast.Set(elts=elts):
            return all(_is_literal(e) for e in elts)
        case ast.Dict(keys=keys, values=values):
            return all(k is not None and _is_literal(k) for k in keys) and all(_is_literal(v) for v in values)
        case ast.Call(func=ast.Name(id="float"), args=[ast.Constant(value=str())], keywords=[]):
            return True  # float('nan'), float('inf'): papermill writes these
    return False


def _base_name(node: ast.expr) -> str | None:
    """``df`` for ``df``, ``df.a``, ``df['a'].b``, ``df.loc[0]``."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


ENVIRON_NAMES = frozenset({"environ", "getenv", "environb"})


# Expressions with their own scope or binding rules: visited by their own method, not walked flat.
SCOPED_EXPRESSIONS = frozenset(
    {ast.Lambda, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp, ast.NamedExpr}
)


def imports_of(node: ast.Import | ast.ImportFrom) -> tuple[list[Import], list[str]]:
    """The names one import statement binds (``Import.alias``) and the modules it star-imports."""
    if isinstance(node, ast.Import):
        imports = []
        for alias in node.names:
            top = alias.name.split(".")[0]
            # import a.b binds a (module a); import a.b as c binds c to a.b
            imports.append(
                Import(alias.name if alias.asname else top, None, alias.asname or top, node.lineno)
            )
        return imports, []
    module = "." * node.level + (node.module or "")
    stars = [module for alias in node.names if alias.name == "*"]
    imports = [
        Import(module, alias.name, alias.asname or alias.name, node.lineno)
        for alias in node.names
        if alias.name != "*"
    ]
    return imports, stars


class CellVisitor(ast.NodeVisitor):
    """Walks code in evaluation order, tracking bindings, reads, in-place changes and calls.

    One visitor per scope: the cell (``depth == 0``), and below it one per function, lambda or
    class body. A function body runs when it is called, not when the cell runs: its reads,
    changes and calls become its :class:`ScopeFacts`, which the recorder follows when a cell
    calls the function; the cell itself reads only what the ``def`` evaluates (defaults,
    decorators). A class body runs at once, so its own reads are the cell's.
    """

    def __init__(
        self,
        depth: int = 0,
        local: frozenset[str] = frozenset(),
        self_name: str | None = None,
        is_class: bool = False,
    ) -> None:
        self.bound: dict[str, int] = {}  # name -> first binding line at module level
        self.free: dict[str, None] = {}
        self.direct_reads: dict[str, None] = {}  # depth > 0: reads this body makes when it runs
        self.deferred_reads: dict[str, None] = {}  # reads of functions defined in this body
        self.mutates: dict[str, None] = {}  # depth > 0: global names this body changes in place
        self.calls: dict[str, None] = {}
        self.methods: dict[tuple[str, str], None] = {}
        self.self_calls: dict[str, None] = {}
        self.scopes: list[ScopeFacts] = []
        self.local = local  # names that are not globals here (this function's and enclosing functions')
        self.self_name = self_name
        self.is_class = is_class
        self._assigned_lambda: ast.AST | None = None
        self.functions: list[str] = []
        self.classes: list[str] = []
        self.imports: list[Import] = []
        self.parameters: dict[str, str] = {}
        self.updates: list[Update] = []
        self.deleted: set[str] = set()
        self.star_imports: list[str] = []
        self.from_environ: set[str] = set()
        self.depth = depth  # >0 inside a function, lambda or class body
        self.saw_environ = False  # the expression being visited reads os.environ / os.getenv
        self._update_keys: set[tuple[str, int]] = set()

    # --- bindings -----------------------------------------------------------------
    def _bind(self, name: str, line: int) -> None:
        if self.depth == 0:
            self.bound.setdefault(name, line)
            self.deleted.discard(name)

    def _read(self, name: str) -> None:
        if name in BUILTIN_NAMES or name in self.local:
            return
        if self.depth:
            self.direct_reads[name] = None
        elif name not in self.bound:
            self.free[name] = None

    def _changed(self, name: str, how: str, line: int) -> None:
        """``name`` is changed in place: a cell's update, or a function's change of a global."""
        if name in self.local:
            return
        if self.depth == 0:
            self._update(name, how, line)
        else:
            self.mutates[name] = None

    def _call(self, node: ast.Call) -> None:
        """Remember what a call may run: notebook functions by name, methods of globals, callbacks."""
        func = node.func
        if isinstance(func, ast.Name):
            if func.id not in self.local and func.id not in BUILTIN_NAMES:
                self.calls[func.id] = None
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            base = func.value.id
            if self.self_name is not None and base == self.self_name:
                self.self_calls[func.attr] = None
            elif base not in self.local:
                self.methods[(base, func.attr)] = None
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(arg, ast.Name) and arg.id not in self.local and arg.id not in BUILTIN_NAMES:
                self.calls[arg.id] = None  # a callback: sorted(key=f), df.apply(f), map(f, xs)

    def _bind_target(self, target: ast.expr) -> None:
        match target:
            case ast.Name(id=name):
                self._bind(name, target.lineno)
            case ast.Tuple(elts=elts) | ast.List(elts=elts):
                for elt in elts:
                    self._bind_target(elt)
            case ast.Starred(value=value):
                self._bind_target(value)
            case ast.Attribute() | ast.Subscript():
                # x.a = …, x[i] = …: evaluates x, then changes it in place
                self.visit(target)
                base = _base_name(target)
                if base is not None:
                    kind = "setattr" if isinstance(target, ast.Attribute) else "setitem"
                    self._changed(base, kind, target.lineno)

    def _update(self, name: str, how: str, line: int) -> None:
        if (name, line) not in self._update_keys:  # a set: cells of 20,000 statements exist
            self._update_keys.add((name, line))
            self.updates.append(Update(name, how, line))

    # --- statements ---------------------------------------------------------------
    def visit_Assign(self, node: ast.Assign) -> None:
        self._assign(node.targets, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is not None:
            self._assign([node.target], node.value)

    def _assign(self, targets: list[ast.expr], value: ast.expr) -> None:
        self.saw_environ = False
        self._assigned_lambda = value if isinstance(value, ast.Lambda) else None
        self.visit(value)
        environ = self.saw_environ
        for target in targets:
            self._bind_target(target)
        if self.depth == 0:
            literal = literal_source(value)
            for target in targets:
                if isinstance(target, ast.Name):
                    if environ:
                        self.from_environ.add(target.id)
                    if literal is not None:
                        self.parameters[target.id] = literal
                    else:
                        self.parameters.pop(target.id, None)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        target = node.target
        if isinstance(target, ast.Name):
            self._read(target.id)
            self._bind(target.id, target.lineno)
            if self.depth == 0:
                self._update(target.id, "augassign", node.lineno)
                self.parameters.pop(target.id, None)
        else:
            self._bind_target(target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self._bind_target(node.target)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self._read(target.id)
                if self.depth == 0:
                    self.bound.pop(target.id, None)
                    self.deleted.add(target.id)
            else:
                self.visit(target)
                base = _base_name(target)
                if base is not None:
                    self._changed(base, "del[]", node.lineno)

    def visit_Expr(self, node: ast.Expr) -> None:
        self.visit(node.value)
        # A method call whose result is thrown away is called for its effect on the receiver.
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute):
            base = _base_name(call.func.value)
            if base is not None and not _is_read_only(call.func.attr):
                self._changed(base, call.func.attr, node.lineno)

    def generic_visit(self, node: ast.AST) -> None:
        """Expressions are walked with an explicit stack: a sum of 500 terms or 400 chained calls
        must not recurse 500 levels (only scopes, which are rarely deep, recurse)."""
        if not isinstance(node, ast.expr):
            super().generic_visit(node)
            return
        stack = [node]
        while stack:
            expr = stack.pop()
            kind = type(expr)
            if kind is ast.Name:
                self.visit_Name(expr)
                continue
            if kind in SCOPED_EXPRESSIONS and expr is not node:
                self.visit(expr)
                continue
            if kind is ast.Call:
                self._inplace_call(expr)
                self._call(expr)
            elif kind is ast.Attribute and expr.attr in ENVIRON_NAMES:
                self.saw_environ = True
            children = []
            for name in kind._fields:
                value = getattr(expr, name, None)
                if isinstance(value, list):
                    children.extend(v for v in value if isinstance(v, ast.AST))
                elif isinstance(value, ast.AST):
                    children.append(value)
            stack.extend(reversed(children))

    def _inplace_call(self, node: ast.Call) -> None:
        # df2 = df.drop(..., inplace=True) still changes df
        if isinstance(node.func, ast.Attribute):
            for kw in node.keywords:
                if kw.arg == "inplace" and isinstance(kw.value, ast.Constant) and kw.value.value is True:
                    base = _base_name(node.func.value)
                    if base is not None:
                        self._changed(base, node.func.attr, node.lineno)

    def visit_Import(self, node: ast.Import) -> None:
        self._imported(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._imported(node)

    def _imported(self, node: ast.Import | ast.ImportFrom) -> None:
        imports, stars = imports_of(node)
        if self.depth == 0:
            self.imports += imports
            self.star_imports += stars
        for imp in imports:
            self._bind(imp.alias, node.lineno)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for deco in node.decorator_list:
            self.visit(deco)
        self._visit_arguments_defaults(node.args)
        if node.returns:
            self.visit(node.returns)
        if self.depth == 0:
            self.functions.append(node.name)
        self._bind(node.name, node.lineno)
        params = _argument_names(node.args)
        positional = [*node.args.posonlyargs, *node.args.args]
        self_name = positional[0].arg if self.is_class and positional else None
        line = min([node.lineno, *(d.lineno for d in node.decorator_list)])
        self._visit_scope(node.body, params, node.name, line, self_name=self_name)

    visit_FunctionDef = _visit_function
    visit_AsyncFunctionDef = _visit_function

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_arguments_defaults(node.args)
        # a lambda binds only its parameters (walking its body for bindings, level after level of
        # nested lambdas, would be quadratic)
        scope = self._visit_scope(
            [node.body], _argument_names(node.args), "<lambda>", node.lineno, bindings=False
        )
        if self.depth == 0 and node is not self._assigned_lambda:
            # an inline lambda (sorted(key=lambda …), df.apply(lambda …)) runs while the cell runs
            for name in scope.reads:
                self._read(name)
            self.calls.update(dict.fromkeys(scope.calls))
            self.methods.update(dict.fromkeys(scope.methods))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        if self.depth == 0:
            self.classes.append(node.name)
        self._bind(node.name, node.lineno)
        # the class body runs now: its own reads and calls are the enclosing code's; its methods
        # see globals, not the class's names
        body = CellVisitor(depth=1, local=self.local, is_class=True)
        for stmt in node.body:
            body.visit(stmt)
        class_names = _local_bindings(node.body)
        for name in body.direct_reads:
            if name not in class_names:
                self._read(name)
        self.calls.update(dict.fromkeys(n for n in body.calls if n not in class_names))
        self.methods.update(body.methods)
        self._absorb(body)

    def _visit_arguments_defaults(self, args: ast.arguments) -> None:
        for default in [*args.defaults, *(d for d in args.kw_defaults if d is not None)]:
            self.visit(default)

    def _visit_scope(
        self,
        body: list[ast.AST],
        params: set[str],
        name: str,
        line: int,
        bindings: bool = True,
        self_name: str | None = None,
    ) -> ScopeFacts:
        """A function or lambda body: its facts, kept for when it is called."""
        own = params | _local_bindings(body) if bindings else params
        # an enclosing function's locals are closure variables here, not globals
        local = frozenset(own) | (frozenset() if self.is_class else self.local)
        inner = CellVisitor(depth=1, local=local, self_name=self_name)
        for stmt in body:
            inner.visit(stmt)
        reads = tuple(n for n in {**inner.direct_reads, **inner.deferred_reads} if n not in local)
        scope = ScopeFacts(
            name,
            line,
            reads=reads,
            mutates=tuple(inner.mutates),
            calls=tuple(n for n in inner.calls if n not in local),
            methods=tuple(inner.methods),
            self_calls=tuple(inner.self_calls),
        )
        self.scopes.append(scope)
        self._absorb(inner)
        for read in reads:
            if read not in self.local:
                self.deferred_reads[read] = None
        return scope

    def _absorb(self, inner: CellVisitor) -> None:
        """Keep what a nested body found that outlives it: its own nested scopes, environ reads."""
        self.scopes.extend(inner.scopes)
        self.saw_environ |= inner.saw_environ
        for read in inner.deferred_reads:
            if read not in self.local:
                self.deferred_reads[read] = None

    def _visit_comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        # The first iterable is evaluated in the enclosing scope; the rest runs in the comprehension's
        # own scope, where its targets are local (a walrus still binds in the enclosing scope). Visited
        # like the enclosing code, so calls, methods and in-place changes inside are seen.
        self.visit(node.generators[0].iter)
        enclosing = self.local
        targets = set().union(*(_target_names(gen.target) for gen in node.generators))
        self.local = enclosing | targets
        try:
            for index, gen in enumerate(node.generators):
                if index:
                    self.visit(gen.iter)
                for condition in gen.ifs:
                    self.visit(condition)
            for elt in [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]:
                self.visit(elt)
        finally:
            self.local = enclosing

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _visit_comprehension

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self._bind_target(node.target)
        for stmt in [*node.body, *node.orelse]:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self._bind_target(item.optional_vars)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type:
            self.visit(node.type)
        if node.name:
            self._bind(node.name, node.lineno)
        for stmt in node.body:
            self.visit(stmt)

    def visit_Global(self, node: ast.Global) -> None:
        pass  # a `global x` inside a function binds x only when called; the runtime diff sees it

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            if node.id in ENVIRON_NAMES:
                self.saw_environ = True
            self._read(node.id)
        elif isinstance(node.ctx, ast.Store):
            self._bind(node.id, node.lineno)


def _argument_names(args: ast.arguments) -> set[str]:
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    every += [a for a in (args.vararg, args.kwarg) if a is not None]
    return {a.arg for a in every}


def _target_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _local_bindings(body: list[ast.AST]) -> set[str]:
    """Names a function body binds locally (minus those it declares global or nonlocal)."""
    bound: set[str] = set()
    declared: set[str] = set()
    for stmt in body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
                bound.add(node.id)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                bound.add(node.name)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                bound.update((a.asname or a.name.split(".")[0]) for a in node.names if a.name != "*")
            elif isinstance(node, ast.Global | ast.Nonlocal):
                declared.update(node.names)
    return bound - declared
