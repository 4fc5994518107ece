"""The project's own errors.

* `ExplainerError`: an error for the user, as facts (`reason` and `fields`) that the UI words in the reader's
  language; `ModelLoadError` (explainers/model.py) and `EmptyInputError` (explainers/encoding.py) are its kinds.

Checks that must hold whatever Python's `-O` says (an `assert` vanishes under it) call `require(condition,
message)`, which raises `InputError` by default:

* `InputError` (a `ValueError`): an argument a function cannot work with (a shape, a range, an empty input).
* `BuildError` (a `RuntimeError`): a build input or a built model that is not what it claims to be (training/,
  deploy/), or code that contradicts itself (a chapter's step that its registry does not declare).
"""
from __future__ import annotations


def facts(reason: str, fields: dict) -> str:
    return reason + "".join(f" {k}={v!r}" for k, v in fields.items())


class ExplainerError(Exception):
    """An error for the user, as facts: `reason` names the case and `fields` hold what the words need. The UI
    words it in the reader's language (`ui.text.error_text`: `errors.<reason>` in `assets/text/<lang>/strings.toml`,
    filled with the fields); `str()` gives the facts, for logs and tracebacks. Explainers hold no words."""

    def __init__(self, reason: str, **fields):
        super().__init__(reason)
        self.reason, self.fields = reason, fields

    def __str__(self) -> str:
        return facts(self.reason, self.fields)


class InputError(ValueError):
    """An argument the function cannot work with."""


class BuildError(RuntimeError):
    """A build input, a built model or a declaration that is not what it claims to be."""


def require(condition: object, message: str, error: type[Exception] = InputError) -> None:
    """Raise `error(message)` unless `condition` holds."""
    if not condition:
        raise error(message)
