"""The stack's error type, in a module of its own (standard library only): ``python -m cluster.dashboard``
runs from the install script before the virtual environment has its packages."""

from __future__ import annotations


class StackError(RuntimeError):
    """A stack component could not start or stop; the message names the cause and the fix."""
