"""Names bound and read by code too deep or too long for the full analysis, found without recursion."""

from __future__ import annotations

import ast

from provkernel.capture.facts import BUILTIN_NAMES, CodeFacts, Import
from provkernel.capture.visitor import imports_of

NESTED_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def shallow_facts(code: str, code_id: str, tree: ast.Module | None) -> CodeFacts:
    """Names bound and read at module level, found without recursion (for code too deep to analyse).

    With a tree: an explicit-stack walk that does not enter function, class or lambda bodies. Without
    one (the tree itself was too deep to build): the tokens, where ``name =`` at the start of a
    statement binds and any other name reads.
    """
    bound: dict[str, int] = {}
    read: dict[str, None] = {}
    imports: list[Import] = []
    if tree is not None:
        stack: list[ast.AST] = list(reversed(tree.body))
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    read[node.id] = None
                else:
                    bound.setdefault(node.id, node.lineno)
                continue
            if isinstance(node, ast.Import | ast.ImportFrom):
                for imp in imports_of(node)[0]:
                    bound.setdefault(imp.alias, node.lineno)
                    imports.append(imp)
                continue
            if isinstance(node, NESTED_SCOPES):
                if not isinstance(node, ast.Lambda):
                    bound.setdefault(node.name, node.lineno)
                continue
            stack.extend(reversed(list(ast.iter_child_nodes(node))))
    else:
        bound, read = _token_names(code)
    free = tuple(n for n in read if n not in bound and n not in BUILTIN_NAMES)
    return CodeFacts(
        code_hash=code_id,
        defined=frozenset(bound),
        free=free,
        imports=tuple(imports),
        def_lines=tuple(sorted(bound.items(), key=lambda kv: kv[1])),
        partial=True,
    )


def _token_names(code: str) -> tuple[dict[str, int], dict[str, None]]:
    import io
    import keyword
    import tokenize

    bound: dict[str, int] = {}
    read: dict[str, None] = {}
    statement_start, depth, pending = True, 0, None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type in (tokenize.NEWLINE, tokenize.NL) and depth == 0:
                statement_start, pending = True, None
                continue
            if tok.type == tokenize.OP:
                depth += tok.string in "([{"
                depth -= tok.string in ")]}"
                if tok.string == "=" and pending is not None:
                    bound.setdefault(pending[0], pending[1])
                    read.pop(pending[0], None)
                pending = None
                statement_start = False
                continue
            if tok.type == tokenize.NAME and not keyword.iskeyword(tok.string):
                if statement_start and depth == 0:
                    pending = (tok.string, tok.start[0])
                if tok.string not in bound:
                    read[tok.string] = None
            elif tok.type not in (tokenize.INDENT, tokenize.DEDENT, tokenize.COMMENT):
                pending = None
            statement_start = False
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    return bound, read
