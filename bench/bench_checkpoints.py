"""What an epoch checkpoint costs, against the model.keras save each epoch already makes.

    python bench/bench_checkpoints.py                 # fast-small (the `minute` preset)
    python bench/bench_checkpoints.py --preset fast   # the 2-million-weight fast net

Builds and compiles the preset's model as ``train`` does (its optimizer built, so its
momentum slots exist), then times in the same run:

- writing a checkpoint (weights and optimizer state read out of the model, one .npz,
  written atomically) as ``CheckpointRecorder`` does at every epoch end,
- reading it back and restoring it into a freshly built model (once per resume),
- the baseline: ``saving.save_model`` of model.keras, which ``RunRecorder`` does at every
  epoch end anyway.

It prints the checkpoint's size next to model.keras's, and the write time's ratio to the
baseline (target: at most 1x: a checkpoint may not double an epoch's saving).
"""

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_ms

#: A checkpoint write may take at most this multiple of the model.keras save.
TARGET_RATIO = 1.0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="minute")
    parser.add_argument("--repeats", type=int, default=5)
    arguments = parser.parse_args(argv)

    import numpy as np

    from cifar_core.models import saving
    from cifar_core.training import checkpointing, checkpoints, train_config, trainer

    config = train_config.preset(arguments.preset)
    images = np.random.default_rng(0).integers(0, 256, (512, 32, 32, 3), dtype=np.uint8)
    model = trainer.build_for(config, images)
    checkpointing.optimizer_state(model)  # built, as during fit
    folder = Path(tempfile.mkdtemp(prefix="bench-checkpoints-"))
    run = type("Run", (), {"path": folder, "config": config.to_dict()})()
    recorder = checkpointing.CheckpointRecorder(run)
    recorder.set_model(model)
    recorder.params = {"steps": 0}

    def write():
        recorder.on_epoch_end(0)

    def restore():
        fresh = trainer.build_for(config, images)
        checkpointing.restore(fresh, checkpoints.read(folder))

    def save_model():
        saving.save_model(model, folder / "model.keras")

    write_ms = median_ms(write, arguments.repeats)
    restore_ms = median_ms(restore, arguments.repeats, warmup=1)
    baseline_ms = median_ms(save_model, arguments.repeats)
    checkpoint_mb = checkpoints.state_path(folder).stat().st_size / 2**20
    model_mb = (folder / "model.keras").stat().st_size / 2**20
    print(f"preset {arguments.preset} ({config.model}, {model.count_params():,} parameters)")
    print(f"checkpoint: {checkpoint_mb:.1f} MB (model.keras: {model_mb:.1f} MB)")
    print(f"checkpoint write: {write_ms:.0f} ms; model.keras save (baseline): "
          f"{baseline_ms:.0f} ms; ratio {write_ms / baseline_ms:.2f} (target <= {TARGET_RATIO})")
    print(f"read and restore into a new model (once per resume): {restore_ms:.0f} ms")


if __name__ == "__main__":
    main()
