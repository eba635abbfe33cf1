"""SGD as airbench94 runs it, for Keras: PyTorch's Nesterov SGD with weight decay in the
gradient, per-variable learning rates and freezing, and Lookahead-style weight averaging.

Keras' own SGD differs in ways that matter for airbench's recipe: it keeps a velocity
already scaled by the learning rate and decays weights outside the momentum, applies one
learning rate to every variable and cannot freeze a variable part-way through a run. This
optimizer does what ``torch.optim.SGD(momentum, nesterov=True, weight_decay=l2)`` does with
airbench's parameter groups, step for step (``tests`` hold a NumPy transcription); ``l2``
is not Keras' ``weight_decay``, which the base class would apply outside the momentum:

    g = gradient + l2 / scale * w      (L2 weight decay, through the momentum)
    buffer = momentum * buffer + g
    w = w - learning_rate * scale * (g + momentum * buffer)

``scales`` maps a variable's path to its learning-rate multiplier (airbench: 64 for batch
norm's biases, whose decay per step so stays that of the other weights); ``frozen_from``
maps a path to the step from which it no longer changes (its momentum kept, as PyTorch
does for a parameter whose ``requires_grad`` is turned off): batch norm's scale from step
0, the whitening layer's bias after its first epochs.

With ``lookahead_every`` (airbench: 5), from epoch ``lookahead_start_epoch`` on (airbench:
3, counted from 0, ``steps_per_epoch`` steps each; a shorter run never averages) a slow copy
of the weights (and of the batch-norm statistics passed as ``averaged``) is taken at the
first such step, then every that many steps moves towards the fast ones by ``1 - decay``,
``decay = 0.95**5 * (step / total_steps)**3``, and the fast weights jump back to it; at the
end of every epoch from then on, and at ``total_steps``, the weights become the slow copy.
The slow copies are optimizer variables, so checkpoints keep them and a resumed run goes
on bit for bit.
"""

from cifar_core.backend import keras

ops = keras.ops

#: airbench94's Lookahead: how often, the largest pull back to the slow weights, and the
#: epoch it starts in.
LOOKAHEAD_EVERY = 5
LOOKAHEAD_DECAY = 0.95 ** 5
LOOKAHEAD_START_EPOCH = 3


class AirbenchSGD(keras.optimizers.Optimizer):
    """Nesterov SGD with L2 weight decay, per-variable rates and freezing, and Lookahead."""

    def __init__(self, learning_rate, *, momentum, l2=0.0, scales=None,
                 frozen_from=None, lookahead_every=0, total_steps=1, steps_per_epoch=None,
                 lookahead_start_epoch=LOOKAHEAD_START_EPOCH, averaged=(),
                 name="airbench_sgd", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        if l2 < 0:
            raise ValueError(f"l2 must be >= 0, got {l2!r}")
        if isinstance(lookahead_every, bool) or not isinstance(lookahead_every, int) \
                or lookahead_every < 0:
            raise ValueError(f"lookahead_every must be an integer >= 0, got {lookahead_every!r}")
        if isinstance(total_steps, bool) or not isinstance(total_steps, int) or total_steps < 1:
            raise ValueError(f"total_steps must be an integer >= 1, got {total_steps!r}")
        scales = dict(scales or {})
        for path, scale in scales.items():
            if not scale > 0:
                raise ValueError(f"the learning-rate scale of {path!r} must be > 0, got {scale!r}")
        self.momentum, self.l2 = float(momentum), float(l2)
        self.scales, self.frozen_from = scales, dict(frozen_from or {})
        self.lookahead_every, self.total_steps = lookahead_every, total_steps
        self.steps_per_epoch = steps_per_epoch or total_steps
        self.lookahead_start_epoch = lookahead_start_epoch
        # The first Lookahead step: the first multiple of lookahead_every in the start epoch.
        start = lookahead_start_epoch * self.steps_per_epoch
        self.first_lookahead = (start // lookahead_every + 1) * lookahead_every \
            if lookahead_every else 0
        # Variables, not settings: ``get_config`` leaves them out (nothing saves this optimizer).
        self.averaged = [variable for variable in averaged
                         if "float" in str(variable.dtype)]  # not seed states or counters

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        # update_step gets the backend's variable, which has no path: look it up by index.
        self.paths = [variable.path for variable in variables]
        self.buffers = self.add_optimizer_variables(variables, "momentum")
        self.slow = []
        if self.lookahead_every:  # The slow copies start as the weights do.
            # An initializer, not an assign: fit may build this where assigns do not stick.
            self.slow = [self.add_variable_from_reference(
                weight, name="slow", initializer=lambda shape, dtype, weight=weight:
                ops.cast(weight.value, dtype)) for weight in list(variables) + self.averaged]

    def update_step(self, gradient, variable, learning_rate):
        index = self._get_variable_index(variable)
        path = self.paths[index]
        scale = self.scales.get(path, 1.0)
        rate = ops.cast(learning_rate, variable.dtype) * scale
        gradient = ops.cast(gradient, variable.dtype)
        if self.l2:
            gradient = gradient + (self.l2 / scale) * variable
        buffer = self.buffers[index]
        new_buffer = self.momentum * buffer + gradient
        new_variable = variable - rate * (gradient + self.momentum * new_buffer)
        if path in self.frozen_from:
            moving = ops.less(self.iterations, self.frozen_from[path])
            new_buffer = ops.where(moving, new_buffer, buffer)
            new_variable = ops.where(moving, new_variable, variable)
        self.assign(buffer, new_buffer)
        self.assign(variable, new_variable)

    def apply(self, grads, trainable_variables=None):
        result = super().apply(grads, trainable_variables)  # counts the step
        if self.lookahead_every:
            self._lookahead()
        return result

    def _lookahead(self):
        steps = self.iterations  # steps done, this one included
        started = ops.greater_equal(steps, self.first_lookahead)
        due = ops.logical_and(started, ops.equal(ops.mod(steps, self.lookahead_every), 0))
        # airbench's decay=1.0 pulls: the weights become the slow copy at each epoch's end;
        # not in epochs shorter than the pulls' spacing (a tiny subset), where that reset
        # would undo most steps.
        ends = [ops.equal(steps, self.total_steps)]
        if self.steps_per_epoch >= self.lookahead_every:
            ends.append(ops.equal(ops.mod(steps, self.steps_per_epoch), 0))
        last = ops.logical_and(started, ops.any(ops.stack(ends)))
        # Most steps touch nothing: the weights are read and written only when due.
        ops.cond(ops.logical_or(due, last), lambda: self._pull(steps, due), lambda: None)

    def _pull(self, steps, due):
        """The slow copies pulled toward the weights (``due``) and the weights set to them."""
        first = ops.equal(steps, self.first_lookahead)  # the slow copy is taken
        progress = ops.minimum(ops.cast(steps, "float32") / float(self.total_steps), 1.0)
        decay = LOOKAHEAD_DECAY * progress ** 3
        fast = self._trainable_variables + self.averaged
        assert len(fast) == len(self.slow), "slow copies out of step with the weights"
        for variable, slow in zip(fast, self.slow):
            weight = ops.cast(variable, "float32")
            pulled = ops.where(first, weight, slow + (1.0 - decay) * (weight - slow))
            new_slow = ops.where(due, pulled, slow)
            self.assign(slow, new_slow)
            self.assign(variable, ops.cast(new_slow, variable.dtype))

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "l2": self.l2,
                       "scales": self.scales, "frozen_from": self.frozen_from,
                       "lookahead_every": self.lookahead_every,
                       "total_steps": self.total_steps,
                       "steps_per_epoch": self.steps_per_epoch,
                       "lookahead_start_epoch": self.lookahead_start_epoch})
        return config
