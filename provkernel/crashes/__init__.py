"""Crash diagnosis: the ML-notebook crash taxonomy of Wang et al. (TSE 2025), decided from the error
output and, when available, from the notebook's execution history.

>>> from provkernel.crashes import classify
>>> classify("KeyError", "'age'", []).crash_type
'key error'
"""

from provkernel.crashes.classify import classify
from provkernel.crashes.context import (
    Binding,
    CrashContext,
    Epoch,
    Execution,
    FileAccess,
    LiveObject,
    LiveState,
    ObjectState,
    Owner,
)
from provkernel.crashes.diagnosis import Diagnosis
from provkernel.crashes.profile import CrashProfile, crash_profile
from provkernel.crashes.render import MIME_TYPE, mimebundle

__all__ = [
    "MIME_TYPE",
    "Binding",
    "CrashContext",
    "CrashProfile",
    "Diagnosis",
    "Epoch",
    "Execution",
    "FileAccess",
    "LiveObject",
    "LiveState",
    "ObjectState",
    "Owner",
    "classify",
    "crash_profile",
    "mimebundle",
]
