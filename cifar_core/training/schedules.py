"""Learning-rate schedules by name (``TrainConfig.schedule``), and "train more" segments.

A schedule is built from the config (and a resumed run's segments) on every start, never
saved: saved models leave the optimizer out (``saving.save_model``).
"""

from cifar_core.backend import keras, tf

#: airbench94's piecewise-linear schedule: the share of the peak it starts from and ends at.
PIECEWISE_START, PIECEWISE_END = 0.2, 0.07


class PiecewiseLinear(keras.optimizers.schedules.LearningRateSchedule):
    """airbench94's schedule: linear from 0.2x ``peak`` at step 0 to ``peak`` at
    ``warmup_steps``, then linear down to 0.07x ``peak`` at ``total_steps`` (and there on).
    """

    def __init__(self, peak, warmup_steps, total_steps):
        if not 0 <= warmup_steps < total_steps:
            raise ValueError(f"warmup_steps {warmup_steps!r} must be in [0, total_steps "
                             f"{total_steps!r})")
        self.peak, self.warmup_steps, self.total_steps = peak, warmup_steps, total_steps

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        rising = step / max(self.warmup_steps, 1)
        falling = tf.minimum((step - self.warmup_steps) / (self.total_steps - self.warmup_steps),
                             1.0)
        share = tf.where(step < self.warmup_steps,
                         PIECEWISE_START + (1.0 - PIECEWISE_START) * rising,
                         1.0 + (PIECEWISE_END - 1.0) * falling)
        return self.peak * share

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps,
                "total_steps": self.total_steps}


#: "Train N more epochs" of a warmup-cosine (or piecewise-linear) run: the new epochs decay
#: along a fresh cosine from this share of the peak learning rate down to 0, without a second
#: warmup. The first schedule ended at (or near) 0, so the run moves again, yet a quarter of
#: the peak does not undo what it learned (a damped warm restart, as SGDR's restarts at a
#: lower rate).
MORE_EPOCHS_PEAK = 0.25


class SegmentedSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """``first`` until step ``later[0][0]``, then each later (start step, schedule) from its
    start, counting its own steps from 0."""

    def __init__(self, first, later):
        self.first, self.later = first, tuple(later)

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        rate = tf.cast(self.first(step), tf.float32)
        for start, schedule in self.later:
            local = tf.maximum(step - float(start), 0.0)
            rate = tf.where(step >= float(start), tf.cast(schedule(local), tf.float32), rate)
        return rate

    def get_config(self):
        serialize = keras.optimizers.schedules.serialize
        return {"first": serialize(self.first),
                "later": [[start, serialize(schedule)] for start, schedule in self.later]}


def learning_rate_schedule(config, steps_per_epoch, segments=()):
    """The learning rate by step. ``segments``: the epochs at which "train more" segments
    begin (the first one is the run's original number of epochs); "constant" and
    "time-decay" simply go on (time decay keeps its original rate of decay), "warmup-cosine"
    and "piecewise-linear" add a fresh cosine from ``MORE_EPOCHS_PEAK`` x the peak for each
    segment."""
    rate = float(config.learning_rate)
    bounds = [*segments, config.epochs]
    if any(not low < high for low, high in zip([0, *bounds], bounds)):
        raise ValueError(f"segments {list(segments)} must rise from 1 to below the "
                         f"{config.epochs} epochs")
    epochs = bounds[0]  # the original schedule's length
    if config.schedule == "constant":
        return rate
    if config.schedule == "time-decay":
        # Keras 2's SGD(decay=lr/epochs): lr / (1 + decay * iterations).
        return keras.optimizers.schedules.InverseTimeDecay(rate, decay_steps=1,
                                                           decay_rate=rate / epochs)
    total = max(1, steps_per_epoch * epochs)
    warmup = min(total - 1, int(round(config.warmup_epochs * steps_per_epoch)))
    if config.schedule == "piecewise-linear":
        first = PiecewiseLinear(rate, warmup_steps=warmup, total_steps=total)
    else:
        first = keras.optimizers.schedules.CosineDecay(
            0.0 if warmup else rate, decay_steps=total - warmup, alpha=0.0,
            warmup_target=rate if warmup else None, warmup_steps=warmup)
    if not segments:
        return first
    later = [(low * steps_per_epoch, keras.optimizers.schedules.CosineDecay(
        rate * MORE_EPOCHS_PEAK, decay_steps=max(1, (high - low) * steps_per_epoch), alpha=0.0))
        for low, high in zip(bounds, bounds[1:])]
    return SegmentedSchedule(first, later)
