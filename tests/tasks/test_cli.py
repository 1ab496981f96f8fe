"""`seqkeras train`, `export` of a trained task, and `predict` on a generation bundle."""

import json
import os
import shutil
import stat

import pytest

from seqkeras import cli, tasks
from seqkeras.cli.train import prepare_run_folder
from seqkeras.errors import SeqKerasError


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("train") / "char_lm"
    previous = os.umask(0o022)
    try:
        code = cli.main(["train", "char_lm", "--smoke", "--epochs", "1", "--out", str(out)])
    finally:
        os.umask(previous)
    assert code == 0
    return out


def test_the_run_folder_has_the_umask_modes_and_no_leftovers(trained):
    assert stat.S_IMODE(trained.stat().st_mode) == 0o755
    names = sorted(path.name for path in trained.iterdir())
    assert names == sorted([*tasks.base.FILES, "manifest.json"])  # backup/ removed at the end
    assert {stat.S_IMODE((trained / name).stat().st_mode) for name in names} == {0o644}
    assert [p.name for p in trained.parent.iterdir()] == [trained.name]


@pytest.mark.parametrize(
    ("name", "damage", "message"),
    [
        ("model.keras", lambda p: p.write_bytes(p.read_bytes()[:-100]), "truncated"),
        ("config.json", lambda p: p.write_text(p.read_text().replace("1", "2")), "changed"),
        ("history.json", lambda p: p.unlink(), "missing"),
    ],
)
def test_a_damaged_task_folder_is_refused_naming_the_file(
    trained, tmp_path, capsys, name, damage, message
):
    copy = tmp_path / "copy"
    shutil.copytree(trained, copy)
    damage(copy / name)
    with pytest.raises(SeqKerasError, match=f"{name}.*{message}|{message}.*{name}"):
        tasks.Task.load(copy)
    capsys.readouterr()
    for source in (copy, copy / "model.keras") if name == "model.keras" else (copy,):
        assert cli.main(["export", str(source), "--to", "onnx", "--out", str(tmp_path / "b")]) == 2
        assert name in capsys.readouterr().err and not (tmp_path / "b").exists()


def test_train_refuses_a_non_empty_folder(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert cli.main(["train", "char_lm", "--smoke", "--out", str(tmp_path)]) == 2
    assert "not empty (notes.txt)" in capsys.readouterr().err
    assert cli.main(["train", "char_lm", "--resume", "--out", str(tmp_path)]) == 2
    assert "holds no backup" in capsys.readouterr().err


def test_overwrite_replaces_only_the_files_a_run_owns(trained, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(trained, run)
    (run / "backup").mkdir()
    (run / "bundle").mkdir()
    (run / "bundle" / "bundle.json").write_text("{}")
    (run / "notes.txt").write_text("mine")
    prepare_run_folder(run, resume=False, overwrite=True, chief=True)
    assert sorted(p.name for p in run.iterdir()) == ["bundle", "notes.txt"]
    assert (run / "bundle" / "bundle.json").read_text() == "{}"


def test_train_writes_the_task_folder(trained):
    assert json.loads((trained / "config.json").read_text())["task"] == "char_lm"
    assert len(json.loads((trained / "history.json").read_text())["loss"]) == 1
    assert tasks.Task.load(trained).preprocessor is not None


def test_export_and_generate_from_the_command_line(trained, tmp_path, capsys):
    bundle = tmp_path / "bundle"
    model_file = str(trained / "model.keras")
    assert cli.main(["export", model_file, "--to", "onnx", "--out", str(tmp_path / "m")]) == 0
    assert (tmp_path / "m" / "bundle.json").is_file()
    assert cli.main(["export", str(trained), "--to", "onnx", "--out", str(bundle)]) == 0
    options = ["--num", "3", "--temperature", "0.8", "--top-p", "0.9", "--seed", "1"]
    capsys.readouterr()
    assert cli.main(["predict", str(bundle), "An", "Ma", *options]) == 0
    outputs = json.loads(capsys.readouterr().out)["outputs"]
    assert [len(texts) for texts in outputs] == [3, 3]
    assert all(t.startswith("An") for t in outputs[0]) and all(
        t.startswith("Ma") for t in outputs[1]
    )
    assert cli.main(["predict", str(bundle), "An", *options]) == 0
    assert json.loads(capsys.readouterr().out)["outputs"] == outputs[:1]  # same seed, same names
    assert cli.main(["predict", str(bundle), "--top-p", "2"]) == 2
    assert "top_p" in capsys.readouterr().err
