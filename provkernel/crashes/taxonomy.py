"""The crash taxonomy of Wang et al., "Why do Machine Learning Notebooks Crash?" (IEEE TSE 2025), as data.

Every label string is spelled exactly as published in the authors' mapping
(``PELAB-LiU/jupyter_nbs_empirical:utils/config.py``), including the trailing space of
``"function not found "``. Fine labels map to one summary label each.
"""

from __future__ import annotations

# Root causes: summary -> fine labels.
ROOT_CAUSES: dict[str, tuple[str, ...]] = {
    "data confusion": ("misunderstanding of data structure",),
    "ML model confusion": ("misunderstanding of ML model",),
    "API misuse": ("misunderstanding of APIs", "misunderstanding of libraries", "invalid argument"),
    "NB specific": (
        "nb specific - execution order",
        "nb specific - previous cell error",
        "nb specific - need execute future cells",
    ),
    "implementation error": (
        "did not import",
        "undefined variable",
        "undefined function",
        "typo",
        "wrong implementation",
    ),
    "insufficient resource": ("insufficient resources",),
    "unknown": ("unknown",),
    "environment setting": (
        "module not installed",
        "change of environment",
        "file/path not found or exist",
        "library versions incompatible",
        "settings(permission, environment)",
        "external control (window closed)",
    ),
    "library cause": ("API change", "error inside library"),
}

# Crash types: summary -> fine labels.
CRASH_TYPES: dict[str, tuple[str, ...]] = {
    "variable not found": ("variable not found",),
    "invalid argument": ("wrong arguments to API",),
    "module not found": ("module not found",),
    "attribute error": ("attributeerror",),
    "key error": ("keyerror", "notfounderror"),
    "tensor shape mismatch": ("tensor shape mismatch",),
    "data value violation": ("valueerror - data value violation",),
    "name error": ("function not found ", "class not found", "nameerror"),
    "value error": ("cast exception", "valueerror - data range mismatch", "valueerror"),
    "index error": ("indexerror-nd", "indexerror-1d"),
    "OOM": ("out of memory (OOM)",),
    "type error": (
        "typeerror",
        "typeerror-notcallable",
        "typeerror-op",
        "typeerror-notsubscriptable",
        "typeerror-notiterable",
        "typeerror-unhashable",
    ),
    "request error": ("requesterror",),
    "unsupported broadcast": ("unsupported broadcast",),
    "runtime error": ("runtimeerror",),
    "model initialization error": ("initialization error (call mul-times, wrong order)",),
    "environment error": ("importerror", "environment setup"),
    "feature name mismatch": ("valueerror - feature name mismatch",),
    "other": (
        "syntaxerror",
        "indentationerror",
        "zerodivisionerror",
        "assertionerror",
        "systemerror",
        "executablenotfound",
        "out of space (disk)",
        "unknown",
    ),
    "io error": (
        "filenotfounderror",
        "unsupported file type (read file)",
        "file permission",
        "fileexistserror",
        "jsondecodeerror",
        "incompleteparseerror",
    ),
}

CRASH_TYPE_ABBR: dict[str, str] = {
    "variable not found": "VNF",
    "invalid argument": "IARG",
    "module not found": "MODULE",
    "attribute error": "ATTR",
    "key error": "KEY",
    "tensor shape mismatch": "TSHAPE",
    "data value violation": "DVIOL",
    "name error": "NAME",
    "value error": "VALUE",
    "index error": "INDEX",
    "OOM": "OOM",
    "type error": "TYPE",
    "request error": "RERR",
    "unsupported broadcast": "BCAST",
    "runtime error": "RUNTIME",
    "model initialization error": "INIT",
    "environment error": "ENV",
    "feature name mismatch": "FNAME",
    "other": "OTHER",
    "io error": "IO",
}

ROOT_CAUSE_ABBR: dict[str, str] = {
    "API misuse": "API",
    "NB specific": "NB",
    "implementation error": "IMPL",
    "environment setting": "ENV",
    "data confusion": "DATA",
    "unknown": "UNK",
    "insufficient resource": "RSC",
    "ML model confusion": "MODEL",
    "library cause": "LIB",
}

# The 24 ML libraries, by popularity (``top_lib_names``); keras is reported as tensorflow.
TOP_LIBRARIES: tuple[str, ...] = (
    "pandas",
    "numpy",
    "matplotlib",
    "sklearn",
    "seaborn",
    "tensorflow",
    "torch",
    "xgboost",
    "scipy",
    "plotly",
    "cv2",
    "keras",
    "lightgbm",
    "torchvision",
    "nltk",
    "transformers",
    "catboost",
    "statsmodels",
    "imblearn",
    "wordcloud",
    "missingno",
    "optuna",
    "skimage",
    "datasets",
)
DL_LIBRARIES: tuple[str, ...] = ("tensorflow", "torch", "keras", "torchvision", "transformers")
# Library names a diagnosis may carry: the 24 with keras merged into tensorflow.
LIBRARIES: tuple[str, ...] = tuple(lib for lib in TOP_LIBRARIES if lib != "keras")

# Python's builtin exception names, lower-case, as the paper listed them (``exception_list_python``).
BUILTIN_EXCEPTIONS: frozenset[str] = frozenset(
    [
        "generatorexit",
        "keyboardinterrupt",
        "systemexit",
        "arithmeticerror",
        "assertionerror",
        "attributeerror",
        "buffererror",
        "eoferror",
        "importerror",
        "lookuperror",
        "memoryerror",
        "nameerror",
        "oserror",
        "referenceerror",
        "runtimeerror",
        "stopasynciteration",
        "stopiteration",
        "syntaxerror",
        "systemerror",
        "typeerror",
        "valueerror",
        "warning",
        "floatingpointerror",
        "overflowerror",
        "zerodivisionerror",
        "byteswarning",
        "deprecationwarning",
        "encodingwarning",
        "futurewarning",
        "importwarning",
        "pendingdeprecationwarning",
        "resourcewarning",
        "runtimewarning",
        "syntaxwarning",
        "unicodewarning",
        "userwarning",
        "blockingioerror",
        "childprocesserror",
        "connectionerror",
        "fileexistserror",
        "filenotfounderror",
        "interruptederror",
        "isadirectoryerror",
        "notadirectoryerror",
        "permissionerror",
        "processlookuperror",
        "timeouterror",
        "indentationerror",
        "indexerror",
        "keyerror",
        "modulenotfounderror",
        "notimplementederror",
        "recursionerror",
        "unboundlocalerror",
        "unicodeerror",
        "brokenpipeerror",
        "connectionabortederror",
        "connectionrefusederror",
        "connectionreseterror",
        "taberror",
        "unicodedecodeerror",
        "unicodeencodeerror",
        "unicodetranslateerror",
        "environmenterror",
        "ioerror",
        "windowserror",
    ]
)
# Exceptions the paper did not count as crashes.
EXCLUDED_EXCEPTIONS: frozenset[str] = frozenset({"keyboardinterrupt"})

_ROOT_OF: dict[str, str] = {fine: summary for summary, fines in ROOT_CAUSES.items() for fine in fines}
_TYPE_OF: dict[str, str] = {fine: summary for summary, fines in CRASH_TYPES.items() for fine in fines}


def root_cause_summary(fine: str) -> str:
    """The summary root cause of a fine root-cause label.

    >>> root_cause_summary("typo")
    'implementation error'
    """
    return _ROOT_OF[fine]


def crash_type_summary(fine: str) -> str:
    """The summary crash type of a fine crash-type label.

    >>> crash_type_summary("indexerror-1d")
    'index error'
    """
    return _TYPE_OF[fine]


def normalize_library(name: str | None) -> str | None:
    """A library name as the paper counts it: lower-case module root, keras merged into tensorflow.

    >>> normalize_library("Keras"), normalize_library("None"), normalize_library(None)
    ('tensorflow', None, None)
    """
    if name is None:
        return None
    name = name.strip()
    if not name or name.lower() in {"none", "nan"}:
        return None
    if name.lower() == "keras":
        return "tensorflow"
    return name if name in {"PIL"} else name.lower()
