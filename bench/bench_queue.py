"""What the training queue costs: one tab's poll of its waiting run, and a server's restart.

    python bench/bench_queue.py                   # 30 tabs' runs waiting, 60 runs on disk
    python bench/bench_queue.py --waiting 100 --runs 300

Every tab whose run waits redraws its panel every ``job_panel.POLL_SECONDS``: the registry's
``controls``, ``queued``, ``position`` and ``queue`` (for the table). Target: all waiting tabs
polling together cost at most 1% of one core (with 30 tabs: 0.33 ms a poll); printed with
what a tab polling a training run asks of the registry (``controls``, ``get``, the job's
``snapshot``) measured in this run for comparison. A restart reads the queue folder back and
the runs' statuses (to drop entries already started); its baseline is ``runs.list_runs`` on
the same folder (the Train page does that every rerun); target: at most 3x. Fake jobs: no
TensorFlow, no dataset.
"""

import argparse
import sys
import tempfile
import types
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_ms  # noqa: E402
from cifar_core.training import job_registry, runs, train_config  # noqa: E402
from tests.unit.training.fake_jobs import FakeFactory  # noqa: E402

TARGET_RATIO = 3.0
#: Share of one core all waiting tabs' polls may take together.
POLL_BUDGET = 0.01


def job_panel_poll_seconds():
    """The panel's polling period (read from its source: importing it needs Streamlit)."""
    source = (Path(__file__).resolve().parent.parent / "cifar_core/ui/job_panel.py").read_text()
    return float(source.split("POLL_SECONDS = ", 1)[1].split()[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--waiting", type=int, default=30, help="runs waiting in the queue")
    parser.add_argument("--runs", type=int, default=60, help="finished run folders on disk")
    parser.add_argument("--repeats", type=int, default=200)
    options = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    config = train_config.preset("minute")
    for _ in range(options.runs):
        runs.start_run(config, directory).finish("finished")
    data = types.SimpleNamespace(x_train=range(50_000))
    registry = job_registry.JobRegistry(max_jobs=1, job_factory=FakeFactory(eta_seconds=60.0),
                                        queue_directory=directory / ".queue",
                                        per_tab_limit=options.waiting + 1)
    [training] = registry.submit(config, data, owner="teacher", runs_dir=directory)
    waiting = [registry.submit(config, data, owner=f"tab-{n}", runs_dir=directory)[0]
               for n in range(options.waiting)]
    last = waiting[-1]

    def training_poll():
        registry.controls(training, "teacher")
        registry.get(training).snapshot()

    def waiting_poll():
        registry.controls(last, f"tab-{options.waiting - 1}")
        registry.queued(last)
        registry.position(last)
        registry.queue()

    def restart():
        job_registry.JobRegistry(max_jobs=1, job_factory=FakeFactory(),
                                 queue_directory=directory / ".queue")

    budget = POLL_BUDGET * 1000 * job_panel_poll_seconds() / options.waiting
    rows = [(f"budget: {options.waiting} tabs polling in 1% of a core (baseline)", budget),
            ("poll of a training run (for comparison)", median_ms(training_poll, options.repeats)),
            (f"poll of the last of {options.waiting} waiting runs",
             median_ms(waiting_poll, options.repeats))]
    restart_rows = [(f"runs.list_runs, {options.runs} runs (baseline)",
                     median_ms(lambda: runs.list_runs(directory), 20)),
                    (f"restart: {options.waiting} entries back, started ones dropped",
                     median_ms(restart, 20))]
    for table, target in ((rows, 1.0), (restart_rows, TARGET_RATIO)):
        baseline = table[0][1]
        for name, milliseconds in table:
            ratio = milliseconds / baseline
            verdict = "" if name.endswith(("(baseline)", "(for comparison)")) else \
                f"  (target <= {target:.0f}x: {'ok' if ratio <= target else 'MISSED'})"
            print(f"{name:55s} {milliseconds:9.3f} ms  {ratio:5.1f}x{verdict}")


if __name__ == "__main__":
    main()
