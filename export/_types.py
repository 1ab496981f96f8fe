"""Type aliases of the export API (for annotations).

Keras and TensorFlow publish no type information the checker uses: a Keras model is `Any`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import numpy.typing as npt

# A keras.Model (Functional or Sequential).
KerasModel: TypeAlias = Any
# A file or folder path as callers pass it.
PathLike: TypeAlias = str | os.PathLike[str]
# Model inputs: one array, a list in input order, or a dict by input name; samples along dim 0.
ModelInputs: TypeAlias = npt.ArrayLike | Sequence[npt.ArrayLike] | Mapping[str, npt.ArrayLike]
# Operator name -> how many times it occurs in an artifact.
OperatorCounts: TypeAlias = dict[str, int]
