"""See the syntax tree IPython parses for a cell, right before it runs, without parsing it twice.

IPython parses every cell with ``shell.compile.ast_parse``. Parsing a large cell costs as much as
running it (a cell of 20,000 statements: 0.3 s), so the recorder analyses IPython's own tree
instead of parsing again, and the moment between parsing and running is also where it takes the
"before" state of the names the cell will touch.

Why not an AST transformer (``shell.ast_transformers``)? With any transformer registered, IPython
runs ``ast.fix_missing_locations`` on every cell: extra work, and a recursion that fails on deep
cells CPython itself runs fine.
"""

from __future__ import annotations

import ast
import logging
from collections.abc import Callable

log = logging.getLogger("provkernel")

Observer = Callable[[str, ast.Module, str], None]  # (source, tree, file name the code is compiled as)


class ParseHook:
    """Wraps the shell's compiler's ``ast_parse`` on that instance only; the observer sees
    (source, tree, file name): the file name is the ``co_filename`` of every function the cell defines."""

    def __init__(self, shell, observer: Observer) -> None:
        self.shell = shell
        self.observer = observer
        self._compiler = None
        self._original = None

    def install(self) -> bool:
        """Start observing; False if the shell has no compiler with ``ast_parse``."""
        compiler = getattr(self.shell, "compile", None)
        original = getattr(compiler, "ast_parse", None)
        if original is None or self._compiler is not None:
            return False
        observer = self.observer

        def ast_parse(source, *args, **kwargs):
            tree = original(source, *args, **kwargs)
            try:
                filename = kwargs.get("filename", args[0] if args else "<unknown>")
                observer(source, tree, filename)
            except Exception:
                log.debug("provkernel: the parse observer failed", exc_info=True)
            return tree

        compiler.ast_parse = ast_parse
        self._compiler, self._original = compiler, original
        return True

    def uninstall(self) -> None:
        """Stop observing (the compiler's own method is used again)."""
        if self._compiler is not None:
            try:
                del self._compiler.ast_parse  # the instance attribute; the class method shows through
            except AttributeError:
                pass
            self._compiler = self._original = None
