"""Recipes for the Train page's form: every bad field explained, presets recognised."""

import dataclasses

import pytest

from cifar_core.training import recipes, train_config


def test_config_from_form_explains_every_bad_field():
    config, errors = recipes.config_from_form("demo", {"epochs": 4, "learning_rate": 0.01})
    assert errors == {} and config.epochs == 4 and config.model == "tiny"
    config, errors = recipes.config_from_form(
        "demo", {"epochs": 0, "learning_rate": 0.0, "batch_size": 64, "train_size": -5})
    assert config is None and set(errors) == {"epochs", "learning_rate", "train_size"}
    assert "integer >= 1" in errors["epochs"] and "greater than 0" in errors["learning_rate"]
    with pytest.raises(ValueError, match="schedule"):
        recipes.config_from_form("demo", {"schedule": "constant"})
    assert recipes.config_from_form("demo", {"train_size": 0})[0].train_size is None  # 0 = all
    assert (recipes.form_values("fast")["train_size"] == 0
            and recipes.form_values("demo")["epochs"] == 3)


@pytest.mark.parametrize("call", [lambda: recipes.form_values("bogus"),
                                  lambda: recipes.config_from_form("bogus", {"epochs": 1})])
def test_unknown_preset_is_a_value_error_naming_it(call):
    with pytest.raises(ValueError, match="'bogus'"):
        call()


def test_recipe_names():
    demo = train_config.PRESETS["demo"]
    assert recipes.recipe_of(demo.to_dict()) == "demo"
    assert recipes.recipe_of(dataclasses.replace(demo, epochs=9).to_dict()) == "demo (changed)"
    assert recipes.recipe_of({"model": "tiny"}) == "custom"
    # A run recorded before TrainConfig had a field had that field's default.
    older = {key: value for key, value in demo.to_dict().items() if key != "flip"}
    assert recipes.recipe_of(older) == "demo"


def test_presets_that_differ_only_in_form_fields_keep_their_names():
    """minute is fast-small with two epochs: each run is named for its own preset."""
    minute, small = train_config.PRESETS["minute"], train_config.PRESETS["fast-small"]
    assert recipes.recipe_of(minute.to_dict()) == "minute"
    assert recipes.recipe_of(small.to_dict()) == "fast-small"
    assert recipes.recipe_of(dataclasses.replace(small, epochs=7).to_dict()) == \
        "fast-small (changed)"


def test_the_students_name_is_a_form_field_that_names_no_recipe():
    fields = recipes.form_values("minute") | {"student": "Ana"}
    config, errors = recipes.config_from_form("minute", fields)
    assert errors == {} and config.student == "Ana"
    assert recipes.recipe_of(config.to_dict()) == "minute"  # a name changes no recipe
    _, errors = recipes.config_from_form("minute", fields | {"student": "A\u200bna"})
    assert "invisible" in errors["student"]


def test_another_optimizer_on_the_fast_form_drops_airbenchs_fields():
    fields = recipes.form_values("fast")
    config, errors = recipes.config_from_form("fast", {**fields, "optimizer": "adam"})
    assert errors == {} and config.optimizer == "adam"
    assert {name: getattr(config, name) for name in train_config.AIRBENCH_FIELDS} == \
        train_config.AIRBENCH_FIELDS
    assert config.whitening == "standardised"  # not the optimizer's: kept
    same, errors = recipes.config_from_form("fast", fields)
    assert errors == {} and same == train_config.PRESETS["fast"]
