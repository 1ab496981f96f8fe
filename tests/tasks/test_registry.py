"""The task registry and the Task base class's checks."""

import pytest

from seqkeras import SeqKerasError, tasks


def test_builtin_tasks_resolve_by_name():
    assert "char_lm" in tasks.names()
    task_class = tasks.get("char_lm")
    assert task_class.name == "char_lm" and issubclass(task_class, tasks.Task)


def test_unknown_task_and_duplicate_registration_raise():
    with pytest.raises(SeqKerasError, match="unknown task 'nope'"):
        tasks.get("nope")
    with pytest.raises(SeqKerasError, match="already registered"):
        tasks.register("char_lm")(type("Other", (tasks.Task,), {}))


def test_config_overrides_and_smoke_mode(monkeypatch):
    task_class = tasks.get("char_lm")
    monkeypatch.setenv("SEQKERAS_SMOKE", "1")
    assert tasks.smoke_mode()
    smoke = task_class()
    assert smoke.smoke and smoke.config["max_names"] == task_class.smoke_config["max_names"]
    monkeypatch.setenv("SEQKERAS_SMOKE", "0")
    full = task_class({"units": 7})
    assert not full.smoke and full.config["units"] == 7 and full.config["max_names"] is None
    with pytest.raises(SeqKerasError, match=r"unknown config keys \['unit'\]"):
        task_class({"unit": 7})


def test_untrained_task_and_bad_folders_raise(tmp_path):
    task = tasks.get("char_lm")(smoke=True)
    with pytest.raises(SeqKerasError, match="not trained"):
        task.save(tmp_path / "x")
    with pytest.raises(SeqKerasError, match="not a saved task"):
        tasks.Task.load(tmp_path)


@pytest.mark.parametrize("name", tasks.names())
def test_the_config_chooses_the_training_loop_of_every_recurrent_layer(name):
    from seqkeras.layers.recurrent_layer import RecurrentLayer

    task_class = tasks.get(name)
    assert task_class.defaults["jit_compile"] == "auto"
    assert task_class.smoke_config["jit_compile"] is False
    task = task_class({"jit_compile": True}, smoke=True)
    task.preprocessor = task.build_preprocessor(task.data["train"])
    model = task.build_model()
    recurrent = [layer for layer in model._flatten_layers() if isinstance(layer, RecurrentLayer)]
    assert recurrent and all(layer.jit_compile is True for layer in recurrent)
