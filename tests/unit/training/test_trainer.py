"""train(): schedules, the fast nets' start, fit fed every epoch, precision on this hardware."""

import dataclasses

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.models import saving
from cifar_core.training import schedules, train_config, trainer
from tests.unit.training.doubles import random_dataset


def test_time_decay_matches_keras2_formula():
    config = train_config.preset("seed-notebook", epochs=25)
    schedule = schedules.learning_rate_schedule(config, steps_per_epoch=100)
    assert float(schedule(1000)) == pytest.approx(0.01 / (1 + 0.01 / 25 * 1000))


def test_piecewise_linear_rises_from_a_fifth_of_the_peak_then_falls_to_7_percent():
    config = train_config.preset("fast", epochs=10, warmup_epochs=2.5)
    schedule = schedules.learning_rate_schedule(config, steps_per_epoch=10)  # 100 steps
    peak = config.learning_rate
    assert [float(schedule(step)) / peak for step in (0, 25, 100, 150)] == pytest.approx(
        [0.2, 1.0, 0.07, 0.07], rel=1e-5)
    assert float(schedule(10)) / peak == pytest.approx(0.2 + 0.8 * 10 / 25, rel=1e-5)
    assert float(schedule(60)) / peak == pytest.approx(1 - 0.93 * 35 / 75, rel=1e-5)
    with pytest.raises(ValueError, match="warmup_steps"):
        schedules.PiecewiseLinear(1.0, warmup_steps=5, total_steps=5)


def test_airbench_recipe_trains_shifts_faster_and_freezes_scales_and_whitening():
    data = random_dataset(128, 16)
    config = train_config.preset("fast", model="fast-small", epochs=2, batch_size=32,
                                 whitening_bias_epochs=1, validation_size=16)
    model = trainer.build_for(config, data.x_train)
    optimizer = model.optimizer
    assert optimizer.scales == {f"batchnorm{index}/beta": 64.0 for index in range(1, 7)}
    assert optimizer.frozen_from == {**{f"batchnorm{index}/gamma": 0 for index in range(1, 7)},
                                     "conv1/kernel": 0, "conv1/bias": 4}  # 4 batches an epoch
    assert optimizer.lookahead_every == 5 and optimizer.total_steps == 8
    kernel = model.get_layer("conv1").kernel.numpy()
    bias = model.get_layer("conv1").bias.numpy()
    result = trainer.train(config, data)
    trained = result.model
    np.testing.assert_array_equal(trained.get_layer("conv1").kernel.numpy(), kernel)
    assert not np.allclose(trained.get_layer("conv1").bias.numpy(), bias)  # trained in epoch 1
    assert not trained.get_layer("conv1").trainable  # fixed again, as a saved fast net is
    np.testing.assert_array_equal(trained.get_layer("batchnorm3").gamma.numpy(), 1.0)


@pytest.mark.parametrize("architecture", ["fast-cosine", "fast-small"])
def test_fast_nets_start_as_identity_and_decay_only_conv_and_dense_weights(architecture):
    config = train_config.preset(architecture, epochs=1)
    model = trainer.build_for(config, random_dataset(100).x_train)
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
    result = trainer.train(config, random_dataset())
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
    result = trainer.train(config, random_dataset(25), callbacks=[Steps()])
    assert asked[0] == {"shuffle": True, "augment": True, "seed": 0, "epochs": 3,
                        "flip": "alternating", "first_epoch": 0}
    assert steps == [4] + [0, 1, 2, 3] * 3  # every epoch all 25 images, none run out
    assert len(result.history["val_loss"]) == 3


def test_mixed_precision_training_saves_float32_model(tmp_path):
    config = train_config.TrainConfig(model="tiny", epochs=1, batch_size=32, validation_size=0,
                                  precision="mixed_bfloat16")
    result = trainer.train(config, random_dataset())
    path = saving.save_model(result.model, tmp_path / "tiny.keras")
    reloaded = saving.load_model(path)
    assert reloaded.get_layer("conv1").compute_dtype == "float32"
    images = random_dataset().x_test.astype("float32")
    assert dataclasses.is_dataclass(result)
    accuracy = trainer.evaluate_accuracy(reloaded, images, random_dataset().y_test,
                                         flip_average=True)
    assert 0.0 <= accuracy <= 1.0


@pytest.mark.parametrize("native, expected", [(True, "mixed_bfloat16"), (False, "float32")])
def test_auto_precision_uses_bfloat16_only_where_native(monkeypatch, native, expected):
    """Emulated bfloat16 trains slower than float32, so "auto" must not pick it there."""
    monkeypatch.setattr(trainer.backend, "bfloat16_is_native", lambda: native)
    config = train_config.TrainConfig(model="tiny", precision="auto")
    assert trainer.effective_precision(config) == expected
    model = trainer.build_for(config, random_dataset().x_train)
    assert model.get_layer("conv1").compute_dtype == expected.removeprefix("mixed_")


def test_explicit_precision_is_kept_whatever_the_hardware(monkeypatch):
    monkeypatch.setattr(trainer.backend, "bfloat16_is_native", lambda: False)
    config = train_config.TrainConfig(model="tiny", precision="mixed_bfloat16")
    assert trainer.effective_precision(config) == "mixed_bfloat16"
    assert train_config.preset("fast").precision == "auto"
