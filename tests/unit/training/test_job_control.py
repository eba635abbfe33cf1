"""Who controls a run: a shared ``?job=`` link takes a run over only from a closed tab."""

from cifar_core.training import job_registry, train_config
from tests.unit.training.fake_jobs import FakeFactory

CONFIG = train_config.TrainConfig(model="tiny")


def registry_with_two_runs(tmp_path, data):
    registry = job_registry.JobRegistry(max_jobs=1, orphan_after=0.0, job_factory=FakeFactory(),
                                        queue_directory=tmp_path / ".queue")
    [training] = registry.submit(CONFIG, data, owner="teacher", runs_dir=tmp_path)
    [waiting] = registry.submit(CONFIG, data, owner="teacher", runs_dir=tmp_path)
    return registry, training, waiting


def test_a_quiet_owner_whose_tab_is_open_keeps_its_runs(tmp_path, tiny_data):
    """The teacher moved to another page (no polls) but the tab is open: a student who
    opened the teacher's shared link watches, and may neither stop nor cancel."""
    registry, training, waiting = registry_with_two_runs(tmp_path, tiny_data)
    open_tabs = {"teacher", "student"}.__contains__
    for run_id in (training, waiting):
        assert not registry.controls(run_id, "student", owner_connected=open_tabs)
        assert registry.owner(run_id) == "teacher"
    assert registry.controls(training, "teacher", owner_connected=open_tabs)


def test_a_closed_tabs_runs_go_to_the_tab_that_names_them(tmp_path, tiny_data):
    """The teacher refreshed (a new tab token; the old tab's session is gone)."""
    registry, training, waiting = registry_with_two_runs(tmp_path, tiny_data)
    only_new_tabs = {"refreshed"}.__contains__
    for run_id in (training, waiting):
        assert registry.controls(run_id, "refreshed", owner_connected=only_new_tabs)
        assert registry.owner(run_id) == "refreshed"
    assert registry.cancel(waiting, "refreshed")
