"""One exception hierarchy, so callers can catch everything promptslim raises with one clause.

Messages say what went wrong, where (file:line or index when there is one) and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "PromptslimError",
    "InputError",
    "UnknownModelError",
    "TokenizerDataError",
    "MissingExtraError",
    "ParseError",
]


class PromptslimError(Exception):
    """Base class of every error promptslim raises on purpose."""


class InputError(PromptslimError, ValueError):
    """Input the caller gave is malformed: bad UTF-8, binary data, wrong message shape, too large."""


class UnknownModelError(PromptslimError, LookupError):
    """A model name matches no tokenizer or price entry; carries close matches as suggestions."""

    def __init__(self, model: str, suggestions: list[str] | tuple[str, ...] = (), what: str = "model") -> None:
        self.model = model
        self.suggestions = tuple(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown {what} {model!r}.{hint}")


class TokenizerDataError(PromptslimError, RuntimeError):
    """Offline tokenizer rank data is missing or does not match tiktoken's expected hash."""


class MissingExtraError(PromptslimError, ImportError):
    """An optional backend was requested but its extra is not installed."""

    def __init__(self, feature: str, extra: str, cause: BaseException | None = None) -> None:
        self.feature = feature
        self.extra = extra
        detail = f" ({cause})" if cause else ""
        super().__init__(
            f"{feature} needs the optional extra '{extra}': pip install 'promptslim[{extra}]'{detail}"
        )


class ParseError(PromptslimError, ValueError):
    """Model output (or a file) could not be parsed; says field, row and line where known."""

    def __init__(self, message: str, *, line: int | None = None, field: str | None = None,
                 row: int | None = None) -> None:
        self.line = line
        self.field = field
        self.row = row
        where = []
        if line is not None:
            where.append(f"line {line}")
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = f"{', '.join(where)}: " if where else ""
        super().__init__(prefix + message)
