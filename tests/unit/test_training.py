"""TrainConfig validation, presets, whitening, train() and stopping."""

import dataclasses
import threading
import types

import numpy as np
import pytest

from cifar_core.models import architectures, saving
from cifar_core.training import recording, runs, train_config, trainer
from cifar_core.backend import keras


def tiny_data(train_count=64, test_count=32, seed=0):
    """A Cifar10-shaped object of random uint8 images (train() reads only these fields)."""
    generator = np.random.default_rng(seed)
    return types.SimpleNamespace(
        x_train=generator.integers(0, 256, (train_count, 32, 32, 3), dtype=np.uint8),
        y_train=np.arange(train_count, dtype=np.int64) % 10,
        x_test=generator.integers(0, 256, (test_count, 32, 32, 3), dtype=np.uint8),
        y_test=np.arange(test_count, dtype=np.int64) % 10,
    )


@pytest.mark.parametrize("field, value", [
    ("model", "resnet"), ("epochs", 0), ("epochs", 1.5), ("epochs", True), ("batch_size", 0),
    ("batch_size", 100000), ("optimizer", "rmsprop"), ("learning_rate", 0.0),
    ("learning_rate", -1.0), ("learning_rate", float("nan")), ("schedule", "step"),
    ("weight_decay", -0.1), ("label_smoothing", 1.0), ("augment", "yes"), ("train_size", 0),
    ("validation_size", -1), ("seed", -1), ("momentum", 1.5), ("warmup_epochs", -1.0),
    ("ema", 1), ("precision", "float16"), ("flip", "vertical"),
])
def test_bad_config_field_raises_value_error_naming_it(field, value):
    with pytest.raises(ValueError, match=rf"TrainConfig\.{field} "):
        train_config.TrainConfig(**{field: value})


def test_presets_are_valid_and_overridable():
    assert {"seed-notebook", "fast", "demo"} <= set(train_config.PRESETS)
    notebook = train_config.PRESETS["seed-notebook"]
    assert (notebook.model, notebook.batch_size, notebook.optimizer, notebook.learning_rate,
            notebook.schedule, notebook.augment) == ("seed", 32, "sgd", 0.01, "time-decay", False)
    config = train_config.preset("fast", epochs=2)
    assert config.epochs == 2 and config.model == "fast"
    assert train_config.TrainConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="nope"):
        train_config.preset("nope")
    with pytest.raises(ValueError, match="epochs"):
        train_config.preset("demo", epochs=-3)


def test_time_decay_matches_keras2_formula():
    config = train_config.preset("seed-notebook", epochs=25)
    schedule = trainer._schedule(config, steps_per_epoch=100)
    assert float(schedule(1000)) == pytest.approx(0.01 / (1 + 0.01 / 25 * 1000))


@pytest.mark.parametrize("architecture", architectures.WHITENED)
def test_fast_nets_start_as_identity_and_decay_only_conv_and_dense_weights(architecture):
    config = train_config.preset(architecture, epochs=1)
    model = trainer.build_for(config, tiny_data(100).x_train)
    conv2 = keras.ops.convert_to_numpy(model.get_layer("conv2").kernel)  # (3, 3, 24, 32 or 64)
    conv3 = keras.ops.convert_to_numpy(model.get_layer("conv3").kernel)  # square: all identity
    identity = np.zeros_like(conv3)
    identity[1, 1] = np.eye(conv3.shape[2])  # the centre tap passes channel i to filter i
    np.testing.assert_array_equal(conv3, identity)
    identity = np.zeros((3, 3, 24, 24), "float32")
    identity[1, 1] = np.eye(24)
    np.testing.assert_array_equal(conv2[..., :24], identity)  # one filter per input channel
    assert np.abs(conv2[..., 24:]).sum() > 0  # the other filters keep their random start
    decayed = {variable.path.split("/")[-1] for variable in model.trainable_variables
               if model.optimizer._use_weight_decay(variable)}
    assert decayed == {"kernel"}  # batch norm's gamma and beta are left alone


def test_train_tiny_model_returns_history():
    config = train_config.TrainConfig(model="tiny", epochs=2, batch_size=16, validation_size=16)
    result = trainer.train(config, tiny_data())
    assert set(result.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(result.history["loss"]) == 2
    assert result.model.name == "tiny"


def test_train_feeds_fit_every_epoch_with_the_configs_flips(monkeypatch):
    """25 images in batches of 8: fit's epochs are 4 batches (the last one partial)."""
    from cifar_core.training import input_pipeline

    asked, steps = [], []
    real_make_dataset = input_pipeline.make_dataset

    def recorded(*arguments, **options):
        asked.append(options)
        return real_make_dataset(*arguments, **options)

    class Steps(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            steps.append(self.params["steps"])

        def on_train_batch_end(self, batch, logs=None):
            steps.append(batch)

    monkeypatch.setattr(input_pipeline, "make_dataset", recorded)
    config = train_config.TrainConfig(model="tiny", epochs=3, batch_size=8, augment=True,
                                  flip="alternating", validation_size=8)
    result = trainer.train(config, tiny_data(25), callbacks=[Steps()])
    assert asked[0] == {"shuffle": True, "augment": True, "seed": 0, "epochs": 3,
                        "flip": "alternating"}
    assert steps == [4] + [0, 1, 2, 3] * 3  # every epoch all 25 images, none run out
    assert len(result.history["val_loss"]) == 3


def test_train_run_writes_complete_run_folder(tmp_path):
    config = train_config.TrainConfig(model="tiny", epochs=2, batch_size=16, validation_size=16,
                                  augment=True)
    run, result = recording.train_run(config, tiny_data(), runs_directory=tmp_path)
    names = {path.name for path in run.path.iterdir()}
    assert {"config.json", "status.json", "history.csv", "model.keras", "filters",
            "tensorboard"} <= names
    record = runs.read_run(run.path)
    assert record.state == "finished"
    assert 0.0 <= record.status["test_accuracy"] <= 1.0
    assert [row["epoch"] for row in record.history()] == [1.0, 2.0]
    assert record.filter_epochs() == [0, 1, 2]
    assert np.load(run.path / "filters" / "epoch_002.npy").shape == (3, 3, 3, 16)
    assert any((run.path / "tensorboard").rglob("events.out.tfevents*"))
    assert saving.load_model(record.model_path).name == "tiny"
    assert train_config.TrainConfig.from_dict(record.config) == config


def test_stop_ends_training_within_one_batch_and_saves_model(tmp_path):
    stop = threading.Event()
    batches = []

    class StopAfterThree(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            batches.append(batch)
            if len(batches) == 3:
                stop.set()

    config = train_config.TrainConfig(model="tiny", epochs=5, batch_size=8, validation_size=0)
    run, result = recording.train_run(config, tiny_data(), runs_directory=tmp_path,
                                      callbacks=[StopAfterThree()], stop_event=stop,
                                      evaluate_test=False)
    assert len(batches) == 3  # 8 batches per epoch, 5 epochs: it stopped after the third.
    record = runs.read_run(run.path)
    assert record.state == "stopped"
    assert record.model_path is not None


def test_failed_training_marks_run_failed(tmp_path):
    class Boom(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            raise RuntimeError("boom")

    config = train_config.TrainConfig(model="tiny", epochs=1, batch_size=16, validation_size=0)
    with pytest.raises(RuntimeError, match="boom"):
        recording.train_run(config, tiny_data(), runs_directory=tmp_path, callbacks=[Boom()])
    (record,) = runs.list_runs(tmp_path)
    assert record.state == "failed" and "boom" in record.status["error"]


def test_mixed_precision_training_saves_float32_model(tmp_path):
    config = train_config.TrainConfig(model="tiny", epochs=1, batch_size=32, validation_size=0,
                                  precision="mixed_bfloat16")
    result = trainer.train(config, tiny_data())
    path = saving.save_model(result.model, tmp_path / "tiny.keras")
    reloaded = saving.load_model(path)
    assert reloaded.get_layer("conv1").compute_dtype == "float32"
    images = tiny_data().x_test.astype("float32")
    assert dataclasses.is_dataclass(result)
    accuracy = trainer.evaluate_accuracy(reloaded, images, tiny_data().y_test, flip_average=True)
    assert 0.0 <= accuracy <= 1.0


@pytest.mark.parametrize("native, expected", [(True, "mixed_bfloat16"), (False, "float32")])
def test_auto_precision_uses_bfloat16_only_where_native(monkeypatch, native, expected):
    """Emulated bfloat16 trains slower than float32, so "auto" must not pick it there."""
    monkeypatch.setattr(trainer.backend, "bfloat16_is_native", lambda: native)
    config = train_config.TrainConfig(model="tiny", precision="auto")
    assert trainer.effective_precision(config) == expected
    model = trainer.build_for(config, tiny_data().x_train)
    assert model.get_layer("conv1").compute_dtype == expected.removeprefix("mixed_")


def test_explicit_precision_is_kept_whatever_the_hardware(monkeypatch):
    monkeypatch.setattr(trainer.backend, "bfloat16_is_native", lambda: False)
    config = train_config.TrainConfig(model="tiny", precision="mixed_bfloat16")
    assert trainer.effective_precision(config) == "mixed_bfloat16"
    assert train_config.preset("fast").precision == "auto"


@pytest.mark.parametrize("flags, gpus, expected", [
    ("fpu avx512f avx512_bf16 amx_tile", [], True),
    ("fpu avx2 amx_bf16", [], True),
    ("fpu avx2 avx512f avx512bw", [], False),  # AVX-512 without BF16 emulates it
    ("fpu avx2", ["GPU:0"], True),
])
def test_bfloat16_is_native_reads_the_cpu_flags(monkeypatch, tmp_path, flags, gpus, expected):
    from cifar_core import backend

    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    monkeypatch.setattr(backend, "CPUINFO", cpuinfo)
    monkeypatch.setattr(backend.tf.config, "list_physical_devices", lambda kind=None: gpus)
    assert backend.bfloat16_is_native() is expected


def test_bfloat16_is_not_native_where_the_cpu_flags_are_unknown(monkeypatch, tmp_path):
    from cifar_core import backend

    monkeypatch.setattr(backend, "CPUINFO", tmp_path / "missing")  # macOS, Windows
    monkeypatch.setattr(backend.tf.config, "list_physical_devices", lambda kind=None: [])
    assert backend.bfloat16_is_native() is False
