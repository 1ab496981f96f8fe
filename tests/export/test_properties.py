"""Property-based tests: drawn recurrent models export to ONNX and TFLite with Keras's results.

The configurations are those of tests/layers/test_properties.py, behind a `Masking` layer when
the drawn mask pattern is not "none"; the exported file is compared with Keras on drawn inputs
whose masked steps are zeros (besides the generated inputs every export is verified on).
"""

import keras
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqkeras import export
from tests.layers.test_properties import make_layer, make_mask, stacks

TOLERANCE = 1e-4
EXPORT_SETTINGS = settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def drawn_model(configs, shape, masked, seed):
    inputs = keras.Input(shape[1:], name="x")
    hidden = keras.layers.Masking(0.0)(inputs) if masked else inputs
    for config in configs:
        results = keras.tree.flatten(make_layer(config)(hidden))
        hidden = results[0]
    model = keras.Model(inputs, results, name="drawn")
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        weight.assign(rng.normal(scale=0.6, size=weight.shape).astype("float32"))
    return model


@EXPORT_SETTINGS
@given(stacks(), st.sampled_from(["onnx", "tflite"]))
def test_drawn_models_export_with_keras_results(tmp_path_factory, stack, fmt):
    configs, shape, pattern, seed = stack
    rng = np.random.default_rng(seed)
    model = drawn_model(configs, shape, pattern != "none", seed)
    x = rng.normal(size=shape).astype("float32")
    mask = make_mask(pattern, shape[0], shape[1], rng)
    if mask is not None:
        x[~mask] = 0.0
    path = tmp_path_factory.mktemp("drawn") / f"model.{fmt}"
    if fmt == "onnx":
        export.to_onnx(model, path)
    else:
        export.to_tflite(model, path)
    report = export.verify(model, path, x)
    assert report.passed, (configs, str(report))
