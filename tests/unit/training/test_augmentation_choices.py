"""The presets grouped by augmentation: every preset in the choice its config says, in words."""

from cifar_core.training import augmentation_choices, train_config


def test_every_preset_falls_under_the_choice_its_config_says():
    choices = augmentation_choices.augmentation_choices()
    listed = [preset for choice in choices.values() for preset in choice.presets]
    assert sorted(listed) == sorted(train_config.PRESETS)  # each preset exactly once
    for choice in choices.values():
        for preset in choice.presets:
            config = train_config.PRESETS[preset]
            assert config.augment == (choice.flip is not None)
            if config.augment:
                assert config.flip == choice.flip


def test_the_shipped_presets_give_three_choices_in_order_with_their_words():
    choices = augmentation_choices.augmentation_choices()
    assert list(choices) == ["random", "alternating", "none"]
    assert choices["random"].presets == ("fast-cosine", "seed-fast")
    assert choices["random"].label == "fast-cosine, seed-fast: random flips and shifts"
    assert choices["random"].recipes == "the fast-cosine and seed-fast recipes"
    assert "at random" in choices["random"].description
    assert "every other epoch" in choices["alternating"].description
    assert "up to 2 pixels" in choices["alternating"].description
    assert choices["none"].flip is None and "no flips, no shifts" in choices["none"].description


def test_kinds_no_preset_uses_are_left_out():
    presets = {"only": train_config.preset("demo"),
               "other": train_config.preset("demo", augment=True, flip="alternating")}
    choices = augmentation_choices.augmentation_choices(presets)
    assert list(choices) == ["alternating", "none"]
    assert choices["none"].recipes == "the only recipe"
    assert augmentation_choices.choice_name(presets["other"]) == "alternating"
