"""The `Task` base class: fit, evaluate, predict, save/load and export, the same for every task."""

import json
import os
import pathlib
from typing import ClassVar

import keras

import seqkeras
from seqkeras.errors import SeqKerasError
from seqkeras.files import staged_directory
from seqkeras.tasks import smoke_mode

FILES = ("model.keras", "preprocessor.json", "config.json", "history.json")


class Task:
    """Base class of the tasks: a fitted Preprocessor, a Functional model and their settings.

    A subclass sets `preprocessor_class`, `defaults` (every config key with its full-size
    value) and `smoke` values, and implements the hooks:

        make_dataset()                 -> {"train": examples, "validation": examples}
        build_preprocessor(examples)   -> the fitted Preprocessor
        build_model()                  -> the compiled training model (Functional API)
        to_dataset(examples, training) -> what `model.fit` takes (e.g. a tf.data.Dataset)
        inference_models()             -> {"encoder": ..., "step": ...}; default {"model": model}
        export_metadata()              -> bundle metadata; default the preprocessor's config
                                          and `pipeline`, the runtime pipeline's name
        predict(inputs)

    Args:
        config: overrides of `defaults` (unknown keys are an error).
        smoke: use the `smoke_config` values (tiny data, 1-2 epochs); default: the
            `SEQKERAS_SMOKE` environment variable.
        preprocessor, model, history: a trained state (as `load` restores it).

    Attributes:
        config: the settings in effect (a dict).
        preprocessor: the fitted Preprocessor, or None before `fit`.
        model: the training `keras.Model`, or None before `fit`.
        history: dict metric name -> per-epoch values over every `fit` call.
    """

    name = None  # set by `seqkeras.tasks.register`
    pipeline = None  # the `seqkeras.runtime` pipeline that runs the exported bundle
    preprocessor_class = None
    defaults: ClassVar[dict] = {}
    smoke_config: ClassVar[dict] = {}

    def __init__(self, config=None, smoke=None, preprocessor=None, model=None, history=None):
        config = dict(config or {})
        unknown = sorted(set(config) - set(self.defaults))
        if unknown:
            raise SeqKerasError(
                f"{type(self).__name__}: unknown config keys {unknown}; the keys are "
                f"{sorted(self.defaults)}."
            )
        self.smoke = smoke_mode() if smoke is None else bool(smoke)
        self.config = {**self.defaults, **(self.smoke_config if self.smoke else {}), **config}
        self.preprocessor = preprocessor
        self.model = model
        self.history = {k: list(v) for k, v in (history or {}).items()}
        self._data = None

    # Hooks -------------------------------------------------------------------------------

    def make_dataset(self):
        """The task's data: a dict with `"train"` and `"validation"` examples (smoke-sized)."""
        raise NotImplementedError

    def build_preprocessor(self, examples):
        raise NotImplementedError

    def build_model(self):
        raise NotImplementedError

    def to_dataset(self, examples, training=False):
        raise NotImplementedError

    def inference_models(self):
        """The graphs to export: by default the training model itself, as `"model"`."""
        self._check_trained()
        return {"model": self.model}

    def export_metadata(self):
        """Bundle metadata: the preprocessor's config and the pipeline's name (subclasses add
        the pipeline's settings)."""
        metadata = {"preprocessor": self.preprocessor.get_config()}
        if self.pipeline:
            metadata["pipeline"] = self.pipeline
        return metadata

    def export_verify_inputs(self):
        """Inputs per graph on which an export is checked against Keras (None: no check)."""
        return None

    def predict(self, inputs):
        raise NotImplementedError

    # Shared behaviour --------------------------------------------------------------------

    def batched(self, arrays, training=False):
        """Arrays with one row per example (a tuple or dict of them) as a `tf.data.Dataset`
        of `batch_size` batches, shuffled with the config's `seed` when `training`."""
        import tensorflow as tf

        dataset = tf.data.Dataset.from_tensor_slices(arrays)
        if training:
            dataset = dataset.shuffle(int(dataset.cardinality()), seed=self.config["seed"])
        return dataset.batch(self.config["batch_size"]).prefetch(2)

    @property
    def data(self):
        """`make_dataset()`, made once per task object."""
        if self._data is None:
            self._data = self.make_dataset()
        return self._data

    def fit(self, train=None, validation=None, epochs=None, verbose="auto", callbacks=None):
        """Trains with `model.fit` (Keras progress bars); fits the preprocessor first if needed.

        Args:
            train: training examples; `data["train"]` if None (then `validation` defaults to
                `data["validation"]`).
            validation: validation examples, or None.
            epochs: the number of epochs; `config["epochs"]` if None.
            verbose: Keras `fit` verbosity.
            callbacks: extra Keras callbacks.

        Returns:
            `history`: every epoch's metrics so far, this call's appended.
        """
        if train is None:
            train, validation = self.data["train"], self.data.get("validation")
        if not len(train):
            raise SeqKerasError(f"{self.name}: no training examples.")
        if self.preprocessor is None:
            self.preprocessor = self.build_preprocessor(train)
        if self.model is None:
            keras.utils.set_random_seed(self.config.get("seed", 0))
            self.model = self.build_model()
        result = self.model.fit(
            self.to_dataset(train, training=True),
            validation_data=None if validation is None else self.to_dataset(validation),
            epochs=self.config["epochs"] if epochs is None else epochs,
            verbose=verbose,
            callbacks=callbacks,
            shuffle=False,  # the tf.data pipeline shuffles; Keras would warn it ignores this
        )
        for key, values in result.history.items():
            self.history.setdefault(key, []).extend(float(v) for v in values)
        return self.history

    def _check_trained(self):
        if self.model is None or self.preprocessor is None:
            raise SeqKerasError(f"{self.name}: the task is not trained; call fit() or load().")

    def evaluate(self, examples=None):
        """The model's compiled metrics on `examples` (`data["validation"]` if None), as a dict."""
        self._check_trained()
        if examples is None:
            examples = self.data["validation"]
        results = self.model.evaluate(self.to_dataset(examples), verbose=0, return_dict=True)
        return {key: float(value) for key, value in results.items()}

    def save(self, directory):
        """Writes model.keras, preprocessor.json, config.json and history.json to `directory`.

        The folder is written beside `directory` and renamed into place when complete, so a
        failed save leaves an existing folder as it was.
        """
        self._check_trained()
        with staged_directory(directory, overwrite=True) as staging:
            self.model.save(staging / "model.keras")
            (staging / "preprocessor.json").write_text(
                self.preprocessor.to_json(), encoding="utf-8"
            )
            config = {"task": self.name, "seqkeras": seqkeras.__version__, "config": self.config}
            (staging / "config.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
            (staging / "history.json").write_text(json.dumps(self.history), encoding="utf-8")
        return pathlib.Path(directory)

    @classmethod
    def load(cls, directory):
        """Restores a task written by `save`; `Task.load` picks the class from config.json.

        Raises:
            SeqKerasError: the folder is missing a file or holds another task.
        """
        from seqkeras import tasks
        from seqkeras.saving import load_model

        directory = pathlib.Path(directory)
        missing = [name for name in FILES if not (directory / name).is_file()]
        if missing:
            raise SeqKerasError(f"{directory}: not a saved task (missing {', '.join(missing)}).")
        try:
            saved = json.loads((directory / "config.json").read_text(encoding="utf-8"))
            history = json.loads((directory / "history.json").read_text(encoding="utf-8"))
            name, config = saved["task"], saved["config"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise SeqKerasError(
                f"{directory}: config.json/history.json unreadable ({error})."
            ) from None
        task_class = tasks.get(name) if cls is Task else cls
        if task_class.name != name:
            raise SeqKerasError(f"{directory}: holds a {name!r} task, not {task_class.name!r}.")
        preprocessor = task_class.preprocessor_class.from_json(
            (directory / "preprocessor.json").read_text(encoding="utf-8"),
            source=os.fspath(directory / "preprocessor.json"),
        )
        return task_class(
            config,
            smoke=False,
            preprocessor=preprocessor,
            model=load_model(directory / "model.keras"),
            history=history,
        )

    def export(self, bundle_dir, formats=("tflite", "onnx"), verify=True, **options):
        """Exports `inference_models()` with the preprocessor as a bundle for `seqkeras.runtime`.

        Args:
            bundle_dir: the bundle folder (replaced if it exists).
            formats: `"tflite"` and/or `"onnx"`.
            verify: check every artifact against Keras on `export_verify_inputs()`.
            **options: more keyword arguments of `seqkeras.export.bundle` (tflite_options...).

        Returns:
            The bundle path.
        """
        from seqkeras import export

        self._check_trained()
        return export.bundle(
            self.inference_models(),
            bundle_dir,
            formats=formats,
            task=self.name,
            metadata=self.export_metadata(),
            verify_inputs=self.export_verify_inputs() if verify else None,
            overwrite=True,
            **options,
        )
