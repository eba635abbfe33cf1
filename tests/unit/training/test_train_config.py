"""TrainConfig and the presets: validation naming the field, presets and what each is for."""

import dataclasses

import pytest

from cifar_core.training import recipes, train_config


@pytest.mark.parametrize("field, value", [
    ("model", "resnet"), ("epochs", 0), ("epochs", 1.5), ("epochs", True), ("batch_size", 0),
    ("batch_size", 100000), ("optimizer", "rmsprop"), ("learning_rate", 0.0),
    ("learning_rate", -1.0), ("learning_rate", float("nan")), ("schedule", "step"),
    ("weight_decay", -0.1), ("label_smoothing", 1.0), ("augment", "yes"), ("train_size", 0),
    ("validation_size", -1), ("seed", -1), ("momentum", 1.5), ("warmup_epochs", -1.0),
    ("ema", 1), ("precision", "float16"), ("flip", "vertical"), ("whitening", "zca"),
    ("whitening_bias_epochs", -1), ("lookahead", "on"), ("batchnorm_scale", 0),
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


def test_every_preset_is_described_with_its_own_epochs():
    assert set(train_config.PURPOSES) == set(train_config.PRESETS)
    for name, config in train_config.PRESETS.items():
        line = train_config.describe(name)
        assert line.startswith(f"{name}: {train_config.PURPOSES[name]} (")
        assert f"({config.epochs} epochs" in line
    assert train_config.describe("fast").endswith(
        f"about {round(train_config.PRESETS['fast'].epochs * 2.0)} minutes on 2 CPU cores)")
    with pytest.raises(ValueError, match="'bogus'"):
        train_config.describe("bogus")


def test_augment_help_names_each_presets_way_of_flipping():
    from cifar_core.training import train_config

    assert set(train_config.FLIP_WORDS) == set(train_config.FLIPS)
    assert "every other epoch" in train_config.augment_help("fast-small")
    assert "at random" in train_config.augment_help("fast-cosine")
    with pytest.raises(ValueError, match="'bogus'"):
        train_config.augment_help("bogus")


@pytest.mark.parametrize("field", ["student", "sweep"])
@pytest.mark.parametrize("value", [3, "x" * 41, "Ann\n", "Ann\u202e"])
def test_labels_are_short_plain_text(field, value):
    with pytest.raises(ValueError, match=f"TrainConfig.{field}"):
        train_config.TrainConfig(**{field: value})


def test_labels_round_trip_and_keep_the_recipe():
    config = train_config.preset("demo", student="Zoë <b>*x*</b>", sweep="s-1")
    assert train_config.TrainConfig.from_dict(config.to_dict()) == config
    assert recipes.recipe_of(config.to_dict()) == "demo"
    assert recipes.recipe_of(dataclasses.replace(config, epochs=9).to_dict()) == "demo (changed)"


@pytest.mark.parametrize("field, value", [("bias_lr_scale", 64.0), ("batchnorm_scale", False),
                                          ("whitening_bias_epochs", 3), ("lookahead", True)])
def test_airbench_fields_belong_to_its_optimizer(field, value):
    with pytest.raises(ValueError, match=rf"TrainConfig\.{field} .*only the 'nesterov-l2'"):
        train_config.TrainConfig(optimizer="nesterov", **{field: value})
    config = train_config.TrainConfig(optimizer="nesterov-l2", **{field: value})
    assert getattr(config, field) == value


def test_the_fast_preset_is_airbench94s_recipe():
    fast = train_config.PRESETS["fast"]
    assert (fast.batch_size, fast.momentum, fast.label_smoothing, fast.flip) == (
        1024, 0.85, 0.2, "alternating")
    # airbench's summed-loss rate 11.5 / (1 + 1 / (1 - 0.85)) per 1024 images, averaged here.
    assert fast.learning_rate == pytest.approx(1.5)
    assert fast.learning_rate * fast.weight_decay == pytest.approx(0.0153 / 7.6667, rel=1e-4)
    assert fast.schedule == "piecewise-linear"
    assert fast.warmup_epochs / fast.epochs == pytest.approx(0.23)
    assert fast.epochs <= 10 and fast.lookahead and not fast.batchnorm_scale
    assert (fast.bias_lr_scale, fast.whitening_bias_epochs, fast.whitening) == (
        64.0, 3, "standardised")
    # The demos keep the first CPU recipe, which stays available by name.
    assert train_config.PRESETS["fast-small"].optimizer == "nesterov"
    assert train_config.PRESETS["fast-cosine"] == train_config.CPU_RECIPE


def test_nesterov_l2_refuses_keras_ema_for_its_own_lookahead():
    with pytest.raises(ValueError, match=r"TrainConfig\.ema .*lookahead"):
        train_config.preset("fast", ema=True)
