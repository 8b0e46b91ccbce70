"""What ML libraries look like in notebook code and tracebacks: modules, aliases, symbols, pip names."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from provkernel.crashes.datafiles import load_table
from provkernel.crashes.taxonomy import LIBRARIES


@cache
def _tables() -> dict[str, Any]:
    return load_table("libraries.toml")


_T = _tables()
# Top-level modules that belong to one of the paper's libraries (keras merged into tensorflow).
MODULE_LIBRARY: dict[str, str] = {lib: lib for lib in LIBRARIES} | _T["modules"]
# Other well-known ML libraries, reported under their own module name.
OTHER_LIBRARIES: frozenset[str] = frozenset(_T["other"])
_ANY_LIBRARY: dict[str, str] = {lib: lib for lib in OTHER_LIBRARIES} | MODULE_LIBRARY
# Conventional import names -> the module they name.
ALIASES: dict[str, str] = _T["aliases"]
# Well-known importable names -> the module they usually come from.
SYMBOLS: dict[str, str] = {name: module for module, names in _T["symbols"].items() for name in names}
# Module -> distribution to install, where the two differ.
PIP_NAMES: dict[str, str] = _T["pip"]
# Modules that only exist on one hosted platform.
PLATFORM_MODULES: dict[str, str] = _T["platforms"]
_TYPE_LIBRARY: dict[str, str] = {name: lib for lib, names in _T["types"].items() for name in names}
# Attributes removed from a module in newer versions, and from the methods of library types.
REMOVED_MODULE_ATTRIBUTES: dict[str, frozenset[str]] = {m: frozenset(a) for m, a in _T["removed"].items()}
REMOVED_METHODS: dict[str, tuple[str, frozenset[str]]] = {
    t: (v["library"], frozenset(v["methods"])) for t, v in _T["removed_methods"].items()
}
# Callable name -> (library, keyword arguments a later version removed) pairs.
REMOVED_KEYWORDS: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {}
for _library, _callables in _T["removed_keywords"].items():
    for _name, _keywords in _callables.items():
        REMOVED_KEYWORDS[_name] = (*REMOVED_KEYWORDS.get(_name, ()), (_library, frozenset(_keywords)))
# Libraries whose removed attributes mean code written for another major version.
VERSION_BOUND_LIBRARIES: frozenset[str] = frozenset(_T["version_bound"])
# Public names of common modules, to recognise typos such as ``pd.dataframe``.
PUBLIC_ATTRIBUTES: dict[str, frozenset[str]] = {m: frozenset(a) for m, a in _T["public"].items()}

# Methods whose receiver is usually an object of one library.
_METHOD_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"\.(?:fit_generator|predict_generator|compile|add|summary|evaluate)\(|epochs\s*="),
        "tensorflow",
    ),
    (re.compile(r"\.(?:backward|cuda|zero_grad|unsqueeze|squeeze_|detach|item)\(|\.to\(\s*device"), "torch"),
    (
        re.compile(r"\.(?:fit_transform|fit|predict_proba|predict|transform|score|inverse_transform)\("),
        "sklearn",
    ),
    (
        re.compile(
            r"\.(?:iloc|loc|groupby|merge|pivot_table|value_counts|dropna|fillna|apply|astype|drop)\b"
            r"|read_(?:csv|excel|json|parquet|table)\("
        ),
        "pandas",
    ),
    (re.compile(r"\.(?:reshape|astype|argmax)\("), "numpy"),
    (
        re.compile(r"\.(?:plot|hist|scatter|imshow|subplots|bar|barh|set_xlabel|legend|savefig)\("),
        "matplotlib",
    ),
)
_ATTRIBUTE_USE = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\.")
_CALL = re.compile(r"(?<![\w.])([A-Za-z_]\w*)\s*\(")


def library_of_module(module: str | None) -> str | None:
    """The ML library of a dotted module (or ``module:symbol``) name: one of the paper's 24 (keras as
    tensorflow) or another well-known ML library (:data:`OTHER_LIBRARIES`), else None.

    >>> library_of_module("keras.layers"), library_of_module("sklearn.svm:SVC"), library_of_module("json")
    ('tensorflow', 'sklearn', None)
    >>> library_of_module("gensim.models"), library_of_module("keras_nlp.models")
    ('gensim', 'keras_nlp')
    """
    if not module:
        return None
    return _ANY_LIBRARY.get(re.split(r"[.:]", module, maxsplit=1)[0])


def module_of_name(name: str, aliases: dict[str, str] | None = None) -> str | None:
    """What a bare name conventionally refers to: ``"numpy"`` for ``np``, ``"module:symbol"`` for a symbol.

    ``aliases`` (name -> target, same notation) seen in the user's own imports take precedence.
    """
    if aliases and name in aliases:
        return aliases[name]
    if name in ALIASES:
        return ALIASES[name]
    return f"{SYMBOLS[name]}:{name}" if name in SYMBOLS else None


def is_module_alias(name: str, aliases: dict[str, str] | None = None) -> bool:
    """Whether ``name`` names a module (``np``, ``pd``, ``os``) rather than an imported function or class."""
    target = module_of_name(name, aliases)
    return target is not None and ":" not in target


def library_of_code(code: str, aliases: dict[str, str] | None = None) -> str | None:
    """The library a line of notebook code most visibly uses: aliases first, then symbols, then methods."""
    for match in _ATTRIBUTE_USE.finditer(code):
        library = library_of_module(module_of_name(match.group(1), aliases))
        if library:
            return library
    for match in _CALL.finditer(code):
        library = library_of_module(module_of_name(match.group(1), aliases))
        if library:
            return library
    for pattern, library in _METHOD_HINTS:
        if pattern.search(code):
            return library
    return None


def first_library(packages: Iterable[str | None]) -> str | None:
    """The library of the first package in ``packages`` that is an ML library (see :func:`library_of_module`)."""
    for package in packages:
        library = library_of_module(package)
        if library:
            return library
    return None


def library_of_type(type_name: str) -> str | None:
    """The library a type named in a message belongs to (``numpy.ndarray``, ``DataFrame``), or None."""
    if "." in type_name:
        library = library_of_module(type_name)
        if library:
            return library
    short = type_name.rsplit(".", 1)[-1]
    if short in _TYPE_LIBRARY:
        return _TYPE_LIBRARY[short]
    return library_of_module(SYMBOLS.get(short))


def pip_name(module: str) -> str:
    """The distribution to ``pip install`` for a module (``cv2`` -> ``opencv-python``)."""
    root = module.split(".", 1)[0]
    return PIP_NAMES.get(root, root.replace("_", "-"))


def platform_of(module: str) -> str | None:
    """The hosted platform a module belongs to (``google.colab`` -> Google Colab), else None."""
    for prefix, platform in PLATFORM_MODULES.items():
        if module == prefix or module.startswith(prefix + "."):
            return platform
    return None
