"""The project's own errors, raised where a check must hold whatever Python's `-O` says (an `assert` vanishes
under it): `require(condition, message)` raises `InputError` by default.

* `InputError` (a `ValueError`): an argument a function cannot work with (a shape, a range, an empty input).
* `BuildError` (a `RuntimeError`): a build input or a built model that is not what it claims to be (training/,
  deploy/), or code that contradicts itself (a chapter's step that its registry does not declare).
"""
from __future__ import annotations


class InputError(ValueError):
    """An argument the function cannot work with."""


class BuildError(RuntimeError):
    """A build input, a built model or a declaration that is not what it claims to be."""


def require(condition: object, message: str, error: type[Exception] = InputError) -> None:
    """Raise `error(message)` unless `condition` holds."""
    if not condition:
        raise error(message)
