"""The runtime contract: what a bundle takes, which options, and how much work one call may ask.

Every runtime bundle class declares (see `seqkeras.runtime.Bundle`):

    input_kind      "texts" (a list of strings), "prefixes" (a list of prefix strings of a
                    generation bundle) or "arrays" (a list of number arrays: waveforms, images,
                    keypoint clips, a plain graph's batch rows)
    array_dtype     for "arrays": the dtype each array is converted to
    options         `Option`s: type, default and the hard bounds of one call
    limits          request-wide bounds: "inputs" per call, and for generation "generated"
                    (num × inputs)

The command line and the server read these declarations; they never inspect a signature or
test a bundle's class. A server may lower the bounds (`Bundle.limit`), never raise them.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import math
import numbers
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from seqkeras.errors import SeqKerasError

INPUT_KINDS = ("texts", "prefixes", "arrays")
TYPE_NAMES: dict[type, str] = {int: "integer", float: "number", bool: "boolean"}


class LimitError(SeqKerasError):
    """A call asks for more work than the bundle's limits allow (too many inputs or outputs)."""


@dataclasses.dataclass(frozen=True)
class Option:
    """One keyword option of a bundle's `predict`.

    Args:
        name: the keyword.
        type: `int`, `float` or `bool`: what the command line and the server accept; None for
            an option only Python callers can pass (an object such as a language model).
        default: the value when the option is not given.
        low, high: the inclusive bounds of a number (None: unbounded on that side). `high` is
            the hard upper bound of one call.
        nullable: None is a value of its own (meaning "off", e.g. best path instead of a
            beam); otherwise None means `default`.
        also: Python types passed through as they are (e.g. a `np.random.Generator` seed).
        help: one line for `--help` and the server's description.

    Example:

    >>> Option("beam_width", int, 1, low=1, high=16).check(3)
    3
    """

    name: str
    type: type | None
    default: Any = None
    low: float | None = None
    high: float | None = None
    nullable: bool = False
    also: tuple[builtins.type, ...] = ()
    help: str = ""

    def check(self, value: Any) -> Any:
        """Returns `value` checked (and an integral float as an int), or raises SeqKerasError.

        None is the default, unless the option is `nullable` (then None is a value: "off").
        """
        if value is None:
            return None if self.nullable else self.default
        if self.also and isinstance(value, self.also):
            return value
        if self.type is None:
            return value
        expected = TYPE_NAMES[self.type]
        if self.type is bool:
            if not isinstance(value, bool):
                raise SeqKerasError(f"option `{self.name}` must be a boolean, got {value!r}.")
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise SeqKerasError(
                f"option `{self.name}` must be {_article(expected)}, got {value!r}."
            )
        if not math.isfinite(value):
            raise SeqKerasError(f"option `{self.name}` must be a finite number, got {value!r}.")
        if self.type is int:
            if not float(value).is_integer():
                raise SeqKerasError(f"option `{self.name}` must be an integer, got {value!r}.")
            value = int(value) if isinstance(value, numbers.Integral) else int(float(value))
        else:
            value = float(value)
        if (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        ):
            raise SeqKerasError(f"option `{self.name}` must be {self.range_text()}, got {value!r}.")
        return value

    def range_text(self) -> str:
        """The bounds in words, e.g. `between 1 and 16` (for error messages)."""
        if self.low is not None and self.high is not None:
            return f"between {self.low} and {self.high}"
        if self.low is not None:
            return f">= {self.low}"
        return f"<= {self.high}"

    def lowered(self, high: float) -> Option:
        """This option with its upper bound lowered to `high` (never raised)."""
        if self.type not in (int, float):
            raise SeqKerasError(f"option `{self.name}` is not a number; it has no upper bound.")
        high = self.check(high)
        return dataclasses.replace(self, high=high)

    def with_default(self, default: Any) -> Option:
        """This option with another default (checked like a value)."""
        return dataclasses.replace(self, default=self.check(default))

    def to_json(self) -> dict[str, Any]:
        """The option as the server describes it (`type` None options are never described)."""
        if self.type is None:
            raise SeqKerasError(f"option `{self.name}` is for Python callers only.")
        return {
            "type": TYPE_NAMES[self.type],
            "default": self.default,
            "min": self.low,
            "max": self.high,
            "nullable": self.nullable or self.default is None,
            "help": self.help,
        }


def _article(name: str) -> str:
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def declare(*declared: Option) -> dict[str, Option]:
    """A dict name -> `Option` of the options in `declared` (a bundle class's `options`)."""
    return {option.name: option for option in declared}


def to_json(value: Any) -> Any:
    """`value` (outputs of `predict`: lists, dicts, tuples, NumPy arrays and scalars) as plain
    JSON types.

    Raises:
        SeqKerasError: a number is NaN or infinite (JSON has no such numbers; they are never
            written).
    """
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc" and not np.isfinite(value).all():
            raise SeqKerasError("the outputs for these inputs hold NaN or infinite numbers.")
        return value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise SeqKerasError("the outputs for these inputs hold NaN or infinite numbers.")
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    return value


def rows(outputs: Any) -> list[Any]:
    """The outputs of `predict` as one item per input: a list as it is, an array's rows, a
    dict of arrays (a plain multi-output graph) as one dict per row."""
    if isinstance(outputs, dict):
        count = len(next(iter(outputs.values())))
        return [{name: value[row] for name, value in outputs.items()} for row in range(count)]
    return list(outputs)


class Cancelled(SeqKerasError):
    """A long call stopped early because nobody waits for its answer any more."""


_stop = threading.local()


@contextlib.contextmanager
def stop_when(predicate: Callable[[], bool]) -> Iterator[None]:
    """Within the block, `check_stop()` in this thread raises `Cancelled` once `predicate()`
    is true (a server stops the work of requests whose clients left or timed out)."""
    previous = getattr(_stop, "predicate", None)
    _stop.predicate = predicate
    try:
        yield
    finally:
        _stop.predicate = previous


def check_stop() -> None:
    """Raises `Cancelled` if the caller of this thread's `stop_when` gave up; long pipelines
    call it between units of work (e.g. generated texts)."""
    predicate = getattr(_stop, "predicate", None)
    if predicate is not None and predicate():
        raise Cancelled("the call was cancelled.")
