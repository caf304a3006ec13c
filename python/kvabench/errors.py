"""The exceptions kvabench raises on purpose, all subclasses of :class:`KvabenchError`.

::

    KvabenchError
    ├── ArgumentError (ValueError)        a bad argument value; .argument names it
    ├── ArgumentTypeError (TypeError)     an argument of the wrong type; .argument names it
    ├── KvaError (RuntimeError)           the simulated kernel refused: what a KASSERT or panic
    │   │                                 catches in FreeBSD (freeing an unreferenced sf_buf, ...)
    │   ├── PageFault                     a guest access without a valid translation
    │   └── DeadlockError                 Machine.run() while every thread sleeps
    ├── StateError (RuntimeError)         an object used in a state that forbids it
    │   ├── MachineClosedError            the Machine was closed
    │   └── StaleHandleError              an SfBuf handle whose slot was recycled since
    └── TestcaseError (ValueError)        a YAML testcase is invalid (file:line:column: message)

Because ArgumentError is a ValueError and ArgumentTypeError a TypeError, code that catches the
built-in exceptions keeps working. The C++ core raises the same classes (kvabench._core imports
this module).
"""
from __future__ import annotations

from typing import Optional

__all__ = [
    "KvabenchError",
    "ArgumentError",
    "ArgumentTypeError",
    "KvaError",
    "PageFault",
    "DeadlockError",
    "StateError",
    "MachineClosedError",
    "StaleHandleError",
    "TestcaseError",
]


class KvabenchError(Exception):
    """Base class of every exception kvabench raises on purpose."""


class _NamesArgument:
    """Mixin: errors about one argument carry its name in ``.argument`` and in the message."""

    argument: Optional[str]

    def __init__(self, message: str, argument: Optional[str] = None) -> None:
        super().__init__(f"{argument}: {message}" if argument else message)
        self.argument = argument


class ArgumentError(_NamesArgument, KvabenchError, ValueError):
    """An argument has a value kvabench cannot use (out of range, unknown name, ...)."""


class ArgumentTypeError(_NamesArgument, KvabenchError, TypeError):
    """An argument has a type kvabench does not accept."""


class KvaError(KvabenchError, RuntimeError):
    """Misuse of a simulated kernel interface, as a KASSERT or panic would catch it in FreeBSD."""


class PageFault(KvaError):
    """A guest access found no valid translation.

    Attributes set by the core: ``cpu``, ``va``, ``access`` ('read', 'write' or 'execute') and
    ``walk`` (the decoded page-table walk as text)."""

    cpu: int
    va: int
    access: str
    walk: str


class DeadlockError(KvaError):
    """Machine.run() was called while every thread sleeps and none can be woken by running.

    ``sleeping`` lists the sleeping threads."""

    def __init__(self, message: str, sleeping: tuple = ()) -> None:
        super().__init__(message)
        self.sleeping = sleeping


class StateError(KvabenchError, RuntimeError):
    """An object was used in a state that forbids it (uninitialised, closed, stale)."""


class MachineClosedError(StateError):
    """The Machine, or the Machine a handle belongs to, was closed."""


class StaleHandleError(StateError):
    """An SfBuf handle kept after its pool slot was recycled for another page."""


class TestcaseError(KvabenchError, ValueError):
    """A YAML testcase is invalid; the message names file:line:column."""

    __test__ = False  # not a pytest test class
