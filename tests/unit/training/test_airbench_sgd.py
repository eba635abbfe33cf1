"""AirbenchSGD against a NumPy transcription of PyTorch's SGD(nesterov, weight_decay) with
airbench94's parameter groups, freezing and Lookahead."""

import numpy as np
import pytest

from cifar_core.backend import keras
from cifar_core.training import airbench_sgd

MOMENTUM, L2, RATE = 0.85, 0.01, 0.1


def variables():
    return (keras.Variable(np.array([1.0, -2.0, 0.5], "float32"), name="weights"),
            keras.Variable(np.array([0.3, 0.1], "float32"), name="shift"))


def gradients(step):
    """A fixed, step-dependent gradient for each variable."""
    return [np.array([0.2, -0.1, 0.4], "float32") * (1 + step % 3),
            np.array([-0.05, 0.07], "float32") * (step + 1)]


def torch_sgd(weights, step_grads, scales, frozen_from, steps, lookahead=None, total=None,
              per_epoch=None, start_epoch=0):
    """PyTorch's SGD step for step: decay into the gradient, Nesterov, per-group rates;
    a frozen parameter keeps its value and momentum; Lookahead as airbench94's main()."""
    weights = [np.array(weight, "float64") for weight in weights]
    buffers = [np.zeros_like(weight) for weight in weights]
    slow = None
    for step in range(steps):
        for index, gradient in enumerate(step_grads(step)):
            if step >= frozen_from.get(index, steps + 1):
                continue
            scale = scales.get(index, 1.0)
            gradient = gradient + L2 / scale * weights[index]
            buffers[index] = MOMENTUM * buffers[index] + gradient
            weights[index] = weights[index] - RATE * scale * (gradient + MOMENTUM * buffers[index])
        done = step + 1
        epoch = step // per_epoch if per_epoch else 0
        if lookahead and epoch >= start_epoch and done % lookahead == 0:
            if slow is None:
                slow = [weight.copy() for weight in weights]
            else:
                decay = 0.95 ** 5 * (done / total) ** 3
                for index, weight in enumerate(weights):
                    slow[index] += (1 - decay) * (weight - slow[index])
                    weights[index] = slow[index].copy()
        epoch_over = per_epoch and per_epoch >= lookahead and done % per_epoch == 0
        if slow is not None and (epoch_over or done == total):
            weights = [copy.copy() for copy in slow]
    return weights


def run(optimizer, steps):
    weights = variables()
    for step in range(steps):
        optimizer.apply([keras.ops.convert_to_tensor(gradient) for gradient in gradients(step)],
                        list(weights))
    return [keras.ops.convert_to_numpy(weight) for weight in weights]


def test_nesterov_with_l2_and_a_faster_shift_match_pytorch():
    optimizer = airbench_sgd.AirbenchSGD(RATE, momentum=MOMENTUM, l2=L2, scales={"shift": 64.0})
    expected = torch_sgd([w.numpy() for w in variables()], gradients, {1: 64.0}, {}, 7)
    for mine, theirs in zip(run(optimizer, 7), expected):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_a_variable_frozen_from_a_step_keeps_its_value_from_there():
    optimizer = airbench_sgd.AirbenchSGD(RATE, momentum=MOMENTUM, l2=L2,
                                         frozen_from={"weights": 0, "shift": 3})
    weights, shift = run(optimizer, 6)
    np.testing.assert_array_equal(weights, [1.0, -2.0, 0.5])  # frozen from the start
    after_three = torch_sgd([w.numpy() for w in variables()], gradients, {}, {}, 3)[1]
    np.testing.assert_allclose(shift, after_three, rtol=1e-5)  # moved in steps 0-2 only


@pytest.mark.parametrize("steps", [10, 13])  # ends mid-epoch; on the last step
def test_lookahead_from_its_start_epoch_pulls_back_and_ends_each_epoch_on_the_slow_copy(steps):
    # 4 steps an epoch, from epoch 1 (steps 5-8): the copy at step 6, pulls at 8, 10 and 12,
    # and the weights set to the slow copy at the epochs' ends (steps 8, 12) and at 13.
    optimizer = airbench_sgd.AirbenchSGD(RATE, momentum=MOMENTUM, l2=L2, lookahead_every=2,
                                         total_steps=13, steps_per_epoch=4,
                                         lookahead_start_epoch=1)
    expected = torch_sgd([w.numpy() for w in variables()], gradients, {}, {}, steps,
                         lookahead=2, total=13, per_epoch=4, start_epoch=1)
    plain = torch_sgd([w.numpy() for w in variables()], gradients, {}, {}, steps)
    mine = run(optimizer, steps)
    for value, theirs in zip(mine, expected):
        np.testing.assert_allclose(value, theirs, rtol=1e-5, atol=1e-6)
    assert not np.allclose(mine[0], plain[0])  # the averaging changed the outcome


def test_epochs_shorter_than_the_pulls_spacing_keep_their_steps():
    # A tiny subset: 1 step an epoch. Resetting at every epoch's end would undo 4 steps in 5.
    optimizer = airbench_sgd.AirbenchSGD(RATE, momentum=MOMENTUM, l2=L2, lookahead_every=2,
                                         total_steps=9, steps_per_epoch=1,
                                         lookahead_start_epoch=2)
    expected = torch_sgd([w.numpy() for w in variables()], gradients, {}, {}, 9,
                         lookahead=2, total=9, per_epoch=1, start_epoch=2)
    for value, theirs in zip(run(optimizer, 9), expected):
        np.testing.assert_allclose(value, theirs, rtol=1e-5, atol=1e-6)


def test_a_run_too_short_to_reach_the_start_epoch_never_averages():
    optimizer = airbench_sgd.AirbenchSGD(RATE, momentum=MOMENTUM, l2=L2, lookahead_every=2,
                                         total_steps=6, steps_per_epoch=3)  # starts in epoch 3
    plain = torch_sgd([w.numpy() for w in variables()], gradients, {}, {}, 6)
    for value, theirs in zip(run(optimizer, 6), plain):
        np.testing.assert_allclose(value, theirs, rtol=1e-5, atol=1e-6)


def test_lookahead_averages_the_extra_variables_it_is_given():
    statistic = keras.Variable(np.array([2.0], "float32"), name="moving_mean",
                               trainable=False)
    optimizer = airbench_sgd.AirbenchSGD(RATE, momentum=MOMENTUM, lookahead_every=1,
                                         total_steps=100, lookahead_start_epoch=0,
                                         averaged=[statistic])
    weights = variables()
    optimizer.apply([keras.ops.convert_to_tensor(g) for g in gradients(0)], list(weights))
    assert float(statistic.numpy()[0]) == 2.0  # step 1: the slow copy taken
    statistic.assign([4.0])  # as batch norm would move it during the next step
    optimizer.apply([keras.ops.convert_to_tensor(g) for g in gradients(1)], list(weights))
    decay = 0.95 ** 5 * (2 / 100) ** 3
    assert float(statistic.numpy()[0]) == pytest.approx(2.0 + (1 - decay) * 2.0, rel=1e-6)
    # Checkpoints keep the slow copies: they are the optimizer's variables.
    assert sum(variable.path.endswith("_slow") for variable in optimizer.variables) == 3


@pytest.mark.parametrize("arguments, named", [
    ({"momentum": 1.0}, "momentum"), ({"momentum": 0.9, "l2": -1.0}, "l2"),
    ({"momentum": 0.9, "lookahead_every": 2.5}, "lookahead_every"),
    ({"momentum": 0.9, "total_steps": 0}, "total_steps"),
    ({"momentum": 0.9, "scales": {"shift": 0.0}}, "shift")])
def test_bad_settings_are_refused_by_name(arguments, named):
    with pytest.raises(ValueError, match=named):
        airbench_sgd.AirbenchSGD(RATE, **arguments)
