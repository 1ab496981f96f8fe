"""The operators of a TFLite flatbuffer: counted, and checked to be builtins."""

from __future__ import annotations

import pathlib

from ai_edge_litert import schema_py_generated as schema

from seqkeras.errors import ExportError

from ._types import OperatorCounts, PathLike
from .trace import traced_layer_name

_BUILTIN_NAMES = {
    code: name for name, code in vars(schema.BuiltinOperator).items() if not name.startswith("_")
}


def _operator_names(model):
    names = []
    for i in range(model.OperatorCodesLength()):
        code = model.OperatorCodes(i)
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin == schema.BuiltinOperator.CUSTOM:
            names.append(code.CustomCode().decode())
        else:
            names.append(_BUILTIN_NAMES.get(builtin, f"BUILTIN_{builtin}"))
    return names


def tflite_operators(model_file: PathLike | bytes | bytearray) -> OperatorCounts:
    """Count of each operator in a TFLite model (all subgraphs), e.g. {"WHILE": 1, ...}.

    Args:
        model_file: the `.tflite` path, or the flatbuffer bytes.
    """
    if isinstance(model_file, bytes | bytearray):
        content = bytes(model_file)
    else:
        content = pathlib.Path(model_file).read_bytes()
    model = schema.Model.GetRootAs(content, 0)
    names = _operator_names(model)
    counts: OperatorCounts = {}
    for s in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(s)
        for o in range(subgraph.OperatorsLength()):
            name = names[subgraph.Operators(o).OpcodeIndex()]
            counts[name] = counts.get(name, 0) + 1
    return counts


def check_builtin_only(content, keras_model):
    model = schema.Model.GetRootAs(content, 0)
    names = _operator_names(model)
    custom = {
        i
        for i in range(model.OperatorCodesLength())
        if max(model.OperatorCodes(i).BuiltinCode(), model.OperatorCodes(i).DeprecatedBuiltinCode())
        == schema.BuiltinOperator.CUSTOM
    }
    if not custom:
        return
    found: dict[str, set[str]] = {}
    for s in range(model.SubgraphsLength()):
        subgraph = model.Subgraphs(s)
        for o in range(subgraph.OperatorsLength()):
            op = subgraph.Operators(o)
            if op.OpcodeIndex() not in custom:
                continue
            layers = found.setdefault(names[op.OpcodeIndex()], set())
            for t in range(op.OutputsLength()):
                tensor_name = subgraph.Tensors(op.Outputs(t)).Name().decode()
                layers.add(traced_layer_name(keras_model, tensor_name) or "?")
    listing = "; ".join(f"{op} (layer {', '.join(sorted(ls))})" for op, ls in sorted(found.items()))
    raise ExportError(
        f"to_tflite: model {keras_model.name!r} needs operators that are not TFLite builtins: "
        f"{listing}: TensorFlow ops without a builtin TFLite kernel."
    )
