"""Names, shapes and dtypes of the tensors a graph takes and returns, and the checks on inputs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from seqkeras.errors import SeqKerasError

DTYPES = frozenset(
    {"float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"}
)

# What a graph takes: an array (one input), a list in input order, or a dict by input name.
GraphInputs: TypeAlias = npt.ArrayLike | Sequence[npt.ArrayLike] | Mapping[str, npt.ArrayLike]
# What a graph returns: its output array (one output), else a dict by output name.
GraphOutputs: TypeAlias = np.ndarray | dict[str, np.ndarray]


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    """One input or output of an exported graph.

    Args:
        name: the tensor's name in the graph's signature.
        shape: tuple of ints, `None` for a dimension of any size; dimension 0 is the batch.
        dtype: NumPy dtype name, e.g. `"float32"`.
    """

    name: str
    shape: tuple[int | None, ...]
    dtype: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "shape", tuple(None if d is None else int(d) for d in self.shape))
        object.__setattr__(self, "dtype", np.dtype(self.dtype).name)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype}

    @classmethod
    def from_json(cls, config: Mapping[str, Any]) -> TensorSpec:
        return cls(config["name"], tuple(config["shape"]), config["dtype"])

    def compatible_with(self, other: TensorSpec) -> bool:
        """Whether both specs name the same tensor, with shapes that agree where both are known."""
        return (
            self.name == other.name
            and self.dtype == other.dtype
            and len(self.shape) == len(other.shape)
            and all(a is None or b is None or a == b for a, b in zip(self.shape, other.shape))
        )

    def check(self, value: npt.ArrayLike, graph_name: str) -> np.ndarray:
        """Returns `value` as an array of this spec's dtype, or raises `SeqKerasError`.

        Values of the same kind (integer for integer, floating point for floating point) are
        cast; a different kind, rank or fixed dimension is an error.
        """
        if (  # the common case, an array as the graph takes it, checked first
            type(value) is np.ndarray
            and value.dtype == self.dtype
            and value.ndim == len(self.shape)
            and all(d is None or d == actual for d, actual in zip(self.shape, value.shape))
        ):
            return value
        try:
            array = np.asarray(value)
        except (TypeError, ValueError) as error:
            raise SeqKerasError(
                f"{graph_name}: input {self.name!r} is not an array of one shape ({error})."
            ) from None
        if array.dtype == object:
            raise SeqKerasError(f"{graph_name}: input {self.name!r} is not a numeric array.")
        expected = np.dtype(self.dtype)
        if array.dtype != expected and not _same_kind(array.dtype, expected):
            raise SeqKerasError(
                f"{graph_name}: input {self.name!r} must have dtype {self.dtype} "
                f"(or one of its kind), got {array.dtype.name}."
            )
        if array.ndim != len(self.shape) or any(
            d is not None and d != actual for d, actual in zip(self.shape, array.shape)
        ):
            raise SeqKerasError(
                f"{graph_name}: input {self.name!r} must have shape {_shape_text(self.shape)}, "
                f"got {tuple(array.shape)}."
            )
        if expected.kind in "iu" and array.dtype != expected:
            info = np.iinfo(expected)
            if array.size and (array.min() < info.min or array.max() > info.max):
                raise SeqKerasError(
                    f"{graph_name}: input {self.name!r} has values outside the range of "
                    f"{self.dtype}."
                )
        return array.astype(expected, copy=False)


def _same_kind(actual: np.dtype, expected: np.dtype) -> bool:
    kind = {"f": "float", "i": "int", "u": "int", "b": "bool"}
    return actual.kind in kind and kind.get(actual.kind) == kind.get(expected.kind)


def _shape_text(shape: tuple[int | None, ...]) -> str:
    return "(" + ", ".join("N" if d is None else str(d) for d in shape) + ")"


def feed(
    specs: Sequence[TensorSpec], inputs: GraphInputs, graph_name: str
) -> dict[str, np.ndarray]:
    """Maps `inputs` (an array, a list in input order, or a dict by name) to checked arrays.

    Returns a dict name -> array, all with the same batch size.
    """
    values: list[Any]
    if isinstance(inputs, Mapping):
        missing = [s.name for s in specs if s.name not in inputs]
        unknown = sorted(set(inputs) - {s.name for s in specs})
        if missing or unknown:
            raise SeqKerasError(
                f"{graph_name}: expected inputs {[s.name for s in specs]}, "
                f"got {sorted(inputs)} (missing {missing}, unknown {unknown})."
            )
        values = [inputs[s.name] for s in specs]
    elif isinstance(inputs, (list, tuple)) and len(specs) > 1:
        if len(inputs) != len(specs):
            raise SeqKerasError(
                f"{graph_name}: expected {len(specs)} inputs {[s.name for s in specs]}, "
                f"got {len(inputs)}."
            )
        values = list(inputs)
    elif len(specs) == 1:
        values = [inputs]
    else:
        raise SeqKerasError(
            f"{graph_name}: takes {len(specs)} inputs {[s.name for s in specs]}; pass a dict "
            "by name or a list in that order."
        )
    arrays = {s.name: s.check(v, graph_name) for s, v in zip(specs, values)}
    batch_sizes = {a.shape[0] for a in arrays.values()}
    if len(batch_sizes) > 1:
        raise SeqKerasError(
            f"{graph_name}: all inputs must have the same batch size (dimension 0), got "
            + ", ".join(f"{name}: {a.shape[0]}" for name, a in arrays.items())
            + "."
        )
    return arrays
