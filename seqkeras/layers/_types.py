"""Type aliases of the layers API (for annotations).

Keras publishes no tensor type: a `Tensor` is a backend tensor (tf.Tensor, jax.Array,
torch.Tensor, np.ndarray) or a symbolic `keras.KerasTensor`, so it is `Any` to the checker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

Tensor: TypeAlias = Any
# A shape as Keras passes it to build / compute_output_shape (None: unknown).
Shape: TypeAlias = Sequence[int | None]
# What get_config returns and from_config takes.
Config: TypeAlias = dict[str, Any]
# What keras.activations / initializers / regularizers / constraints `.get` accept: a name,
# a serialized config, an instance or a callable; None for "none".
Identifier: TypeAlias = str | dict[str, Any] | Callable[..., Any] | None
# step(x<t>, states) -> (output, new_states), the function a sequence layer's loop runs.
StepFn: TypeAlias = Callable[[Tensor, Sequence[Tensor]], tuple[Tensor, list[Tensor]]]
