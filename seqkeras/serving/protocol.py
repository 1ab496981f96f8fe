"""Request bodies -> checked inputs and options, and outputs -> response bodies (no HTTP here).

Two protocols:

    /v1/predict   {"inputs": [...], "options": {...}, "scores": false} -> {"outputs": [...]}
    Open Inference Protocol (KServe v2 / Triton REST), POST /v2/models/{name}/infer:
                  {"inputs": [{"name": "INPUT", "datatype": "BYTES", "shape": [2],
                               "data": ["text", "text"]}], "parameters": {options}}
                  -> {"model_name": ..., "outputs": [{"name": "OUTPUT", "datatype": "BYTES",
                      "shape": [2], "data": [...]}]}
                  with Triton's binary tensor extension (Inference-Header-Content-Length)

Texts and prefixes travel as strings (BYTES tensors), arrays as numbers (FP32 tensors, or the
bundle's `array_dtype`). Outputs that are not strings or numbers of one shape (tags, DNA
annotations, scored answers) travel as BYTES tensors of JSON documents. NaN and infinite
numbers are refused in requests and never written in responses.
"""

import dataclasses
import json
import math
import struct

import numpy as np

from seqkeras.errors import SeqKerasError
from seqkeras.runtime.contract import to_json

V2_DATATYPES = {
    "BOOL": "bool",
    "UINT8": "uint8",
    "INT8": "int8",
    "INT16": "int16",
    "INT32": "int32",
    "INT64": "int64",
    "FP16": "float16",
    "FP32": "float32",
    "FP64": "float64",
}
DATATYPE_NAMES = {dtype: name for name, dtype in V2_DATATYPES.items()}
# Triton request parameters that are the protocol's, not the model's options.
V2_RESERVED = {
    "binary_data_output",
    "sequence_id",
    "sequence_start",
    "sequence_end",
    "priority",
    "timeout",
}
INPUT_NAME, OUTPUT_NAME = "INPUT", "OUTPUT"


class RequestError(SeqKerasError):
    """A request the server refuses, with its HTTP status."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def _finite_float(text):
    value = float(text)
    if not math.isfinite(value):
        raise RequestError(400, f"the body holds the number {text}, out of range.")
    return value


def _no_constant(name):
    raise RequestError(400, f"the body holds {name}, which is not a JSON number.")


def parse_json(body):
    """The JSON document of `body` (bytes), with NaN, Infinity and overflowing numbers refused.

    Raises:
        RequestError: 400 when the body is not JSON, or nests too deeply.
    """
    try:
        return json.loads(body, parse_float=_finite_float, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestError(400, f"the body is not valid JSON ({error}).") from None
    except RecursionError:
        raise RequestError(400, "the body nests JSON too deeply.") from None


def dumps(body):
    """A response body as UTF-8 JSON bytes (NaN and infinity raise `SeqKerasError`)."""
    return json.dumps(to_json(body), ensure_ascii=False, allow_nan=False).encode("utf-8")


def check_options(bundle, options):
    """The request's options checked against the bundle's contract (wire options only)."""
    if not isinstance(options, dict):
        raise RequestError(400, "'options' must be an object.")
    wire = {name for name, option in bundle.options.items() if option.type is not None}
    unknown = sorted(set(options) - wire)
    if unknown:
        raise RequestError(
            400,
            f"unknown options {unknown}; this bundle takes: {', '.join(sorted(wire)) or 'none'}.",
        )
    return bundle.check_options(options)


def to_array(value, dtype, index):
    """One input array of an "arrays" bundle, from nested JSON numbers.

    Raises:
        RequestError: 400 for a string, a scalar, a ragged or non-numeric list, or values
            that do not fit `dtype`.
    """
    if isinstance(value, str):
        raise RequestError(400, f"input {index} is a string; this bundle takes number arrays.")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise RequestError(400, f"input {index} is not a (nested) list of numbers.") from None
    return cast(array, dtype, f"input {index}")


def cast(array, dtype, what):
    """`array` as `dtype`, refusing non-finite values and values that do not fit."""
    if array.ndim == 0:
        raise RequestError(400, f"{what} is a number; expected an array.")
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        raise RequestError(400, f"{what} holds NaN or infinite values.")
    target = np.dtype(dtype)
    if target.kind == "f" and array.size and np.abs(array).max() > np.finfo(target).max:
        raise RequestError(400, f"{what} has values out of range of {dtype}.")
    if target.kind in "iub" and array.size:
        info = np.iinfo(target) if target.kind in "iu" else None
        if array.dtype.kind == "f" and not np.all(array == np.round(array)):
            raise RequestError(400, f"{what} must hold integers ({dtype}).")
        if info is not None and (array.min() < info.min or array.max() > info.max):
            raise RequestError(400, f"{what} has values outside the range of {dtype}.")
    return array.astype(target)


def v1_inputs(bundle, inputs):
    """The inputs of a /v1/predict body for the bundle's input kind."""
    if not isinstance(inputs, list) or not inputs:
        raise RequestError(400, "'inputs' must be a non-empty list.")
    if bundle.input_kind == "arrays":
        return [to_array(value, bundle.array_dtype, index) for index, value in enumerate(inputs)]
    if not all(isinstance(text, str) for text in inputs):
        raise RequestError(400, "'inputs' must be a list of strings for this bundle.")
    return inputs


def parse_v1(bundle, body):
    """`(inputs, options, scored)` of a POST /v1/predict body."""
    request = parse_json(body)
    if not isinstance(request, dict):
        raise RequestError(400, 'the body must be a JSON object {"inputs": [...]}.')
    unknown = sorted(set(request) - {"inputs", "options", "scores"})
    if unknown:
        raise RequestError(
            400, f"unknown fields {unknown}; the fields are inputs, options, scores."
        )
    scored = request.get("scores", False)
    if not isinstance(scored, bool):
        raise RequestError(400, "'scores' must be true or false.")
    options = check_options(bundle, request.get("options", {}))
    return v1_inputs(bundle, request.get("inputs")), options, scored


# Open Inference Protocol -----------------------------------------------------------------


def input_datatype(bundle):
    if bundle.input_kind == "arrays":
        return DATATYPE_NAMES[np.dtype(bundle.array_dtype).name]
    return "BYTES"


def model_metadata(bundle, name):
    """GET /v2/models/{name}: the model's tensors, and its seqkeras contract."""
    return {
        "name": name,
        "versions": ["1"],
        "platform": f"seqkeras_{bundle.backend}",
        "inputs": [{"name": INPUT_NAME, "datatype": input_datatype(bundle), "shape": [-1]}],
        "outputs": [{"name": OUTPUT_NAME, "datatype": "BYTES", "shape": [-1]}],
        "parameters": {"seqkeras": bundle.describe()},
    }


def split_binary(body, header_length):
    """`(json_header, binary_tail)` of a request with Triton's binary tensor extension."""
    if header_length is None:
        return body, b""
    try:
        length = int(header_length)
    except ValueError:
        raise RequestError(400, "Inference-Header-Content-Length must be an integer.") from None
    if not 0 < length <= len(body):
        raise RequestError(400, "Inference-Header-Content-Length is out of the body's range.")
    return body[:length], body[length:]


def decode_bytes(raw, count):
    """`count` strings of Triton's BYTES binary encoding (4-byte little-endian lengths)."""
    items, offset = [], 0
    while offset < len(raw):
        if offset + 4 > len(raw):
            raise RequestError(400, "a BYTES tensor's binary data is truncated.")
        (size,) = struct.unpack_from("<I", raw, offset)
        offset += 4
        if offset + size > len(raw):
            raise RequestError(400, "a BYTES tensor's binary data is truncated.")
        items.append(raw[offset : offset + size])
        offset += size
    if len(items) != count:
        raise RequestError(400, f"the BYTES tensor holds {len(items)} items, its shape {count}.")
    return items


@dataclasses.dataclass
class InferRequest:
    """A parsed POST .../infer request: checked inputs and options, and how to answer."""

    inputs: list
    options: dict
    scored: bool
    binary_output: bool
    timeout: float | None  # seconds
    id: str | None


def parse_v2(bundle, body, header_length=None):
    """The `InferRequest` of a POST .../infer body."""
    header, binary = split_binary(body, header_length)
    request = parse_json(header)
    if not isinstance(request, dict):
        raise RequestError(400, "the body must be a JSON object with 'inputs'.")
    tensors = request.get("inputs")
    if not isinstance(tensors, list) or len(tensors) != 1 or not isinstance(tensors[0], dict):
        raise RequestError(400, f"'inputs' must hold one tensor named {INPUT_NAME!r}.")
    tensor = tensors[0]
    if tensor.get("name") != INPUT_NAME:
        raise RequestError(400, f"the input tensor must be named {INPUT_NAME!r}.")
    shape = tensor.get("shape")
    if (
        not isinstance(shape, list)
        or not shape
        or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
    ):
        raise RequestError(400, "the input's 'shape' must be a list of sizes >= 0.")
    if shape[0] < 1:
        raise RequestError(400, "the input tensor holds no inputs.")
    values = _tensor_values(bundle, tensor, shape, binary)
    parameters = request.get("parameters", {})
    if not isinstance(parameters, dict):
        raise RequestError(400, "'parameters' must be an object.")
    scored = parameters.get("scores", False)
    if not isinstance(scored, bool):
        raise RequestError(400, "parameter 'scores' must be true or false.")
    options = {k: v for k, v in parameters.items() if k not in V2_RESERVED and k != "scores"}
    binary_output = bool(parameters.get("binary_data_output")) or any(
        isinstance(output, dict) and (output.get("parameters") or {}).get("binary_data")
        for output in request.get("outputs") or []
    )
    timeout = parameters.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0
    ):
        raise RequestError(400, "parameter 'timeout' must be microseconds > 0.")
    request_id = request.get("id")
    if request_id is not None and not isinstance(request_id, str):
        raise RequestError(400, "'id' must be a string.")
    return InferRequest(
        values,
        check_options(bundle, options),
        scored,
        binary_output,
        None if timeout is None else timeout / 1e6,
        request_id,
    )


def _tensor_values(bundle, tensor, shape, binary):
    datatype = tensor.get("datatype")
    count = int(np.prod(shape))
    size = (tensor.get("parameters") or {}).get("binary_data_size")
    if bundle.input_kind != "arrays":
        if datatype != "BYTES" or len(shape) != 1:
            raise RequestError(400, "this model takes a BYTES tensor of shape [n] (texts).")
        if size is not None:
            items = decode_bytes(binary[:size] if isinstance(size, int) else b"", count)
        else:
            items = _flat(tensor.get("data"))
            if len(items) != count or not all(isinstance(i, str) for i in items):
                raise RequestError(400, f"'data' must hold {count} strings.")
        try:
            return [i.decode("utf-8") if isinstance(i, bytes) else i for i in items]
        except UnicodeDecodeError:
            raise RequestError(400, "a BYTES item is not UTF-8 text.") from None
    if datatype not in V2_DATATYPES:
        raise RequestError(400, f"the input datatype must be one of {sorted(V2_DATATYPES)}.")
    if len(shape) < 2:
        raise RequestError(400, "an arrays model takes a tensor of shape [n, ...] (one row each).")
    if size is not None:
        dtype = np.dtype(V2_DATATYPES[datatype]).newbyteorder("<")
        if not isinstance(size, int) or size != count * dtype.itemsize or size > len(binary):
            raise RequestError(400, "binary_data_size does not match the input's shape.")
        array = np.frombuffer(binary[:size], dtype).reshape(shape)
    else:
        data = _flat(tensor.get("data"))
        if len(data) != count or not all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in data
        ):
            raise RequestError(400, f"'data' must hold {count} numbers.")
        array = np.asarray(data, np.float64).reshape(shape)
    array = cast(array, bundle.array_dtype, "the input tensor")
    return list(array)


def _flat(data):
    if not isinstance(data, list):
        raise RequestError(400, "the input's 'data' must be a list.")
    flat = []
    stack = [iter(data)]
    while stack:
        for item in stack[-1]:
            if isinstance(item, list):
                stack.append(iter(item))
                break
            flat.append(item)
        else:
            stack.pop()
    return flat


def output_tensor(outputs):
    """The OUTPUT tensor of one request's outputs: `(datatype, shape, items)`; `items` a
    flat list of strings (BYTES) or a NumPy array."""
    outputs = to_json(outputs)
    if all(isinstance(item, str) for item in outputs):
        return "BYTES", [len(outputs)], outputs
    if all(isinstance(item, list) and all(isinstance(s, str) for s in item) for item in outputs):
        widths = {len(item) for item in outputs}
        if len(widths) == 1:
            return "BYTES", [len(outputs), widths.pop()], [s for item in outputs for s in item]
    try:
        array = np.asarray(outputs)
    except ValueError:
        array = None
    if array is not None and array.dtype.kind in "fiub" and array.ndim >= 1:
        array = array.astype(np.float32) if array.dtype.kind == "f" else array
        return DATATYPE_NAMES[array.dtype.name], list(array.shape), array
    return "BYTES", [len(outputs)], [json.dumps(item, ensure_ascii=False) for item in outputs]


def v2_response(name, request_id, outputs, binary):
    """`(body, header_length)` of an infer response (header_length None: plain JSON)."""
    datatype, shape, items = output_tensor(outputs)
    tensor = {"name": OUTPUT_NAME, "datatype": datatype, "shape": shape}
    response = {"model_name": name, "model_version": "1", "outputs": [tensor]}
    if request_id is not None:
        response["id"] = request_id
    if not binary:
        tensor["data"] = items.ravel().tolist() if isinstance(items, np.ndarray) else items
        return dumps(response), None
    if isinstance(items, np.ndarray):
        raw = items.astype(items.dtype.newbyteorder("<")).tobytes()
    else:
        raw = b"".join(
            struct.pack("<I", len(data)) + data for data in (s.encode("utf-8") for s in items)
        )
    tensor["parameters"] = {"binary_data_size": len(raw)}
    header = dumps(response)
    return header + raw, len(header)
