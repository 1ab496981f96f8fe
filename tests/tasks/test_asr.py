import json

import numpy as np
import pytest

from seqkeras import SeqKerasError, VocabularyError, cli, runtime, tasks
from seqkeras.audio import SAMPLE_RATE, write_wav
from seqkeras.decoding import WordNgramLM
from seqkeras.runtime.pipelines.ctc import SpeechBundle, SpeechPreprocessor
from seqkeras.tasks.asr import AsrTask, build_model

pytest.importorskip("espeakng_loader")

WORD_SCORING = {"beam_width": 4, "lexicon": True, "lm_weight": 0.5, "word_bonus": 1.0}


def trained_task(tmp_path_factory, **config):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQKERAS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        task = AsrTask({"train_size": 16, "validation_size": 4, "epochs": 3, **config}, smoke=True)
        task.fit(verbose=0)
    return task


@pytest.fixture(scope="module")
def task(tmp_path_factory):
    return trained_task(tmp_path_factory)


@pytest.fixture(scope="module")
def lm(task):
    return WordNgramLM(order=2).fit([example.text for example in task.data["train"]])


@pytest.fixture(scope="module")
def bundle_path(task, tmp_path_factory):
    return task.export(tmp_path_factory.mktemp("asr") / "bundle")


@pytest.fixture(scope="module")
def waveforms(task):
    return [example.audio for example in task.data["validation"]]


def test_registered():
    assert "asr" in tasks.names() and tasks.get("asr") is AsrTask


def test_training_reduces_the_ctc_loss(task):
    losses = task.history["loss"]
    assert len(losses) == 3 and losses[-1] < losses[0]


@pytest.mark.parametrize("options", [{"beam_width": 4}, WORD_SCORING])
def test_evaluate_reports_loss_cer_and_wer(task, lm, options):
    results = task.evaluate(**options, **({"lm": lm} if "lexicon" in options else {}))
    assert set(results) == {"loss", "cer", "wer", "cer_beam", "wer_beam"}
    assert all(np.isfinite(value) and value >= 0 for value in results.values())


def test_lexicon_decoding_gives_only_the_task_words(task, waveforms, lm):
    for transcript in task.predict(waveforms, **WORD_SCORING, lm=lm):
        assert set(transcript.split()) <= set(task.config["words"])


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"lexicon": True}, "need beam search"),
        ({"beam_width": 2, "lm": "model"}, "callable"),
        ({"beam_width": 2, "lexicon": {"one", "tw0"}}, "outside the alphabet"),
    ],
)
def test_bad_decoding_options(task, waveforms, options, message):
    with pytest.raises(SeqKerasError, match=message):
        task.predict(waveforms, **options)


def test_lexicon_true_needs_the_preprocessor_words(task, waveforms):
    config = {**task.preprocessor.get_config(), "words": None}
    task = AsrTask(
        task.config, preprocessor=SpeechPreprocessor.from_config(config), model=task.model
    )
    with pytest.raises(SeqKerasError, match="has no `words`"):
        task.predict(waveforms, beam_width=2, lexicon=True)


@pytest.mark.parametrize("backend", ["onnx", "tflite"])
def test_runtime_transcripts_equal_keras(task, bundle_path, waveforms, lm, backend):
    bundle = runtime.load(bundle_path, backend=backend)
    assert isinstance(bundle, SpeechBundle)
    assert bundle.predict(waveforms) == task.predict(waveforms)
    assert bundle.predict(waveforms, beam_width=4) == task.predict(waveforms, beam_width=4)
    assert bundle.predict(waveforms, **WORD_SCORING, lm=lm) == task.predict(
        waveforms, **WORD_SCORING, lm=lm
    )
    features, _ = bundle.preprocessor.encode_audio(waveforms)
    np.testing.assert_allclose(
        bundle.predict(features, graph="model"), task.model.predict(features, verbose=0), atol=1e-4
    )


def test_save_load_and_wav_input(task, waveforms, tmp_path):
    path = write_wav(tmp_path / "a.wav", waveforms[0])
    loaded = AsrTask.load(task.save(tmp_path / "run"))
    as_int16 = np.round(np.clip(waveforms[0], -1, 1) * 32767).astype(np.int16)
    assert loaded.predict([path]) == task.predict([as_int16])


def test_cli_predict_transcribes_wav_files(task, bundle_path, waveforms, tmp_path, capsys):
    paths = [str(write_wav(tmp_path / f"{i}.wav", w)) for i, w in enumerate(waveforms[:2])]
    assert cli.main(["predict", str(bundle_path), *paths]) == 0
    assert json.loads(capsys.readouterr().out) == {"outputs": task.predict(paths)}
    assert cli.main(["predict", str(bundle_path), str(tmp_path / "missing.wav")]) == 2
    assert "not a readable WAV file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("inputs", "sample_rate", "message"),
    [
        ([np.array([0.1, np.nan])], None, "NaN or infinite"),
        ([np.zeros(0)], None, "empty"),
        ([np.zeros(1000)], 16000, "sample rate 16000"),
        ([np.zeros(2 * SAMPLE_RATE)], None, "longer than the 1.5 s"),
        (np.zeros(1000), None, "wrap it in a list"),
        ([], None, "at least one waveform"),
    ],
)
def test_bad_audio(task, inputs, sample_rate, message):
    with pytest.raises(SeqKerasError, match=message):
        task.predict(inputs, sample_rate)


def test_silence_and_clipping_give_transcripts(task):
    loud = np.clip(4 * np.sin(np.arange(SAMPLE_RATE // 2) / 3.0), -1, 1)
    transcripts = task.predict([np.zeros(SAMPLE_RATE // 2), loud])
    assert all(isinstance(text, str) for text in transcripts)


def test_preprocessor_round_trip_and_bad_transcripts(task):
    preprocessor = task.preprocessor
    again = SpeechPreprocessor.from_json(preprocessor.to_json())
    assert again == preprocessor
    labels = preprocessor.encode_texts(["one", "go"])
    assert labels.shape == (2, 3) and labels[1, 2] == -1
    assert preprocessor.decode(labels[0]) == "one"
    with pytest.raises(VocabularyError, match="outside the alphabet"):
        preprocessor.encode_texts(["one!"])
    with pytest.raises(VocabularyError, match="distinct single characters"):
        SpeechPreprocessor(preprocessor.features, ["a", "a"], 10)


def test_old_preprocessor_configs_load_without_words(task):
    config = task.preprocessor.get_config()
    assert config["words"] == task.config["words"] and config["downsampling"] == 2
    del config["words"], config["downsampling"]
    preprocessor = SpeechPreprocessor.from_config(config)
    assert preprocessor.words is None and preprocessor.downsampling == 1
    with pytest.raises(VocabularyError, match="`words`"):
        SpeechPreprocessor.from_config({**config, "words": ["one two"]})


def test_conv_front_end_downsamples_and_exports_with_parity(tmp_path_factory):
    task = trained_task(tmp_path_factory, conv_filters=8, conv_layers=2)
    preprocessor = task.preprocessor
    assert preprocessor.downsampling == 4
    waveforms = [example.audio for example in task.data["validation"]]
    logits, frames = task.transcriber.logits(waveforms)
    assert logits.shape[1] == -(-preprocessor.max_frames // 4)
    features, feature_frames = preprocessor.encode_audio(waveforms)
    np.testing.assert_array_equal(frames, -(-feature_frames // 4))
    bundle_path = task.export(tmp_path_factory.mktemp("asr_conv") / "bundle")
    for backend in ("onnx", "tflite"):
        bundle = runtime.load(bundle_path, backend=backend)
        np.testing.assert_allclose(
            bundle.predict(features, graph="model"), logits, atol=1e-4, err_msg=backend
        )
        assert bundle.predict(waveforms) == task.predict(waveforms)
        assert bundle.predict(waveforms, **WORD_SCORING) == task.predict(waveforms, **WORD_SCORING)


def test_transcripts_that_need_more_frames_than_the_model_has_are_an_error(tmp_path_factory):
    # Five stride-2 convolutions leave ⌈65 / 32⌉ = 3 frames: too few for most words.
    config = {"train_size": 4, "validation_size": 1, "conv_filters": 4, "conv_layers": 5}
    task = AsrTask(config, smoke=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SEQKERAS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        with pytest.raises(SeqKerasError, match="CTC frames"):
            task.fit(verbose=0)


@pytest.mark.parametrize(
    ("config", "message"), [({"conv_filters": -1}, "conv_filters"), ({"conv_layers": 0}, "conv")]
)
def test_bad_front_end_config(config, message):
    config = {**AsrTask.defaults, "conv_filters": 4, **config}
    with pytest.raises(SeqKerasError, match=message):
        build_model(config, num_mel_bins=20, num_classes=5, max_frames=30)


def test_frames_beyond_the_model_are_an_error(task):
    config = {**task.preprocessor.get_config(), "max_frames": 10}
    preprocessor = SpeechPreprocessor.from_config(config)
    with pytest.raises(SeqKerasError, match="more than the model's 10"):
        preprocessor.encode_audio([np.zeros(SAMPLE_RATE)])
