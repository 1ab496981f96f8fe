"""The Open Inference Protocol (KServe v2 / Triton REST), driven by NVIDIA's own client,
`tritonclient.http`: metadata, texts as BYTES tensors, a waveform as an FP32 tensor, errors."""

import numpy as np
import pytest

from seqkeras import runtime
from tests.serve_helpers import TEXTS, bundle_path, start_servers

pytest.importorskip("starlette")
httpclient = pytest.importorskip("tritonclient.http")
from tritonclient.utils import InferenceServerException  # noqa: E402

serve = pytest.fixture(scope="module")(start_servers)


def client_of(server):
    return httpclient.InferenceServerClient(f"127.0.0.1:{server.port}")


def texts_input(texts, binary):
    tensor = httpclient.InferInput("INPUT", [len(texts)], "BYTES")
    tensor.set_data_from_numpy(np.array(texts, dtype=object), binary_data=binary)
    return tensor


def test_health_and_metadata(serve):
    client = client_of(serve("sentiment"))
    assert client.is_server_live() and client.is_server_ready()
    assert client.is_model_ready("sentiment")
    assert not client.is_model_ready("nope")
    assert client.get_server_metadata()["name"] == "seqkeras"
    metadata = client.get_model_metadata("sentiment")
    assert metadata["inputs"] == [{"name": "INPUT", "datatype": "BYTES", "shape": [-1]}]
    assert metadata["parameters"]["seqkeras"]["inputs"] == "texts"


@pytest.mark.parametrize("binary", [False, True])
def test_infer_texts(serve, binary):
    client = client_of(serve("sentiment"))
    outputs = [httpclient.InferRequestedOutput("OUTPUT", binary_data=binary)]
    result = client.infer("sentiment", [texts_input(TEXTS, binary)], outputs=outputs)
    got = [item.decode() if isinstance(item, bytes) else item for item in result.as_numpy("OUTPUT")]
    assert got == runtime.load(bundle_path("sentiment")).predict(TEXTS)
    # Without requested outputs the client asks for binary outputs.
    result = client.infer("sentiment", [texts_input(TEXTS, binary)], request_id="r1")
    assert [b.decode() for b in result.as_numpy("OUTPUT")] == got
    assert result.get_response()["id"] == "r1"


def test_infer_generation_with_options_as_parameters(serve):
    client = client_of(serve("char_lm"))
    parameters = {"num": 3, "seed": 5, "max_len": 6, "temperature": 0.9}
    result = client.infer("char_lm", [texts_input(["a", "b"], True)], parameters=parameters)
    texts = result.as_numpy("OUTPUT")
    assert texts.shape == (2, 3)
    expected = runtime.load(bundle_path("char_lm")).predict(["a", "b"], **parameters)
    assert [[t.decode() for t in row] for row in texts] == expected


def test_infer_a_waveform_with_decoding_options(serve):
    from seqkeras.audio import SAMPLE_RATE

    server = serve("asr")
    client = client_of(server)
    assert client.get_model_metadata("asr")["inputs"][0]["datatype"] == "FP32"
    rng = np.random.default_rng(0)
    waveform = (0.1 * rng.standard_normal(SAMPLE_RATE // 2)).astype(np.float32)
    tensor = httpclient.InferInput("INPUT", [1, len(waveform)], "FP32")
    tensor.set_data_from_numpy(waveform[None])
    bundle = runtime.load(bundle_path("asr"))
    result = client.infer("asr", [tensor])
    assert [t.decode() for t in result.as_numpy("OUTPUT")] == bundle.predict([waveform])
    options = {"beam_width": 4, "lexicon": True, "word_bonus": 1.0}
    result = client.infer("asr", [tensor], parameters=options)
    assert [t.decode() for t in result.as_numpy("OUTPUT")] == bundle.predict([waveform], **options)


def test_errors_reach_the_client_with_their_message(serve):
    client = client_of(serve("char_lm"))
    with pytest.raises(InferenceServerException, match="`num` must be between 1 and 64"):
        client.infer("char_lm", [texts_input(["a"], True)], parameters={"num": 1000})
    with pytest.raises(InferenceServerException, match="unknown options"):
        client.infer("char_lm", [texts_input(["a"], False)], parameters={"beam": 2})
    numbers = httpclient.InferInput("INPUT", [1, 2], "FP32")
    numbers.set_data_from_numpy(np.zeros((1, 2), np.float32))
    with pytest.raises(InferenceServerException, match="BYTES tensor"):
        client.infer("char_lm", [numbers])
    with pytest.raises(InferenceServerException, match="no model 'other'"):
        client.infer("other", [texts_input(["a"], True)])
    wrong = httpclient.InferInput("TEXT", [1], "BYTES")
    wrong.set_data_from_numpy(np.array(["a"], dtype=object))
    with pytest.raises(InferenceServerException, match="named 'INPUT'"):
        client.infer("char_lm", [wrong])
