"""Who may delete a run or pin the class model: a tab its own runs, the teacher any."""

import hmac

import pytest

from cifar_core.training import class_model, permissions, runs, train_config

MINE, THEIRS, PASSWORD = "a" * 32, "b" * 32, "correct horse"


def make_run(directory, owner, *, state="finished"):
    run = runs.start_run(train_config.TrainConfig(model="tiny", epochs=1), directory, owner=owner)
    (run.path / "model.keras").write_bytes(b"not loaded")
    if state != "running":
        run.finish(state)
    return runs.read_run(run.path)


@pytest.fixture
def no_password(monkeypatch):
    monkeypatch.delenv(permissions.PASSWORD_VARIABLE, raising=False)


@pytest.fixture
def password(monkeypatch):
    monkeypatch.setenv(permissions.PASSWORD_VARIABLE, PASSWORD)
    return PASSWORD


def test_without_a_password_a_tab_deletes_only_its_own_runs(tmp_path, no_password):
    mine, theirs, command_line = (make_run(tmp_path, MINE), make_run(tmp_path, THEIRS),
                                  make_run(tmp_path, None))
    assert not permissions.teacher_password_set()
    assert permissions.may_delete(mine, MINE, is_teacher=False)
    assert not permissions.may_delete(theirs, MINE, is_teacher=False)
    assert not permissions.may_delete(command_line, MINE, is_teacher=False)
    assert not permissions.may_delete(mine, None, is_teacher=False)  # no token, no runs
    # Without a password nobody is the teacher, whatever a tab's state says.
    assert not permissions.may_delete(theirs, MINE, is_teacher=True)
    assert not permissions.may_pin(is_teacher=True)
    with pytest.raises(permissions.NotAllowed, match="no teacher's password"):
        permissions.delete_run(theirs.id, MINE, True, tmp_path)
    permissions.delete_run(mine.id, MINE, False, tmp_path)
    assert {record.id for record in runs.list_runs(tmp_path)} == {theirs.id, command_line.id}


def test_an_empty_password_is_no_password(tmp_path, monkeypatch):
    monkeypatch.setenv(permissions.PASSWORD_VARIABLE, "")
    assert not permissions.teacher_password_set()
    assert not permissions.check_password("")


def test_a_wrong_password_is_refused(tmp_path, password):
    theirs = make_run(tmp_path, THEIRS)
    assert permissions.teacher_password_set()
    for typed in ("", "correct", "correct horse ", "CORRECT HORSE", "correct horsé"):
        assert not permissions.check_password(typed), typed
    unlocked = permissions.check_password("wrong")
    assert not permissions.may_delete(theirs, MINE, unlocked)
    with pytest.raises(permissions.NotAllowed, match="or the teacher"):
        permissions.delete_run(theirs.id, MINE, unlocked, tmp_path)
    with pytest.raises(permissions.NotAllowed, match="Only the teacher"):
        permissions.pin_class_model(theirs.id, unlocked, tmp_path)
    assert [record.id for record in runs.list_runs(tmp_path)] == [theirs.id]


def test_the_right_password_deletes_any_run_and_pins(tmp_path, password):
    theirs, command_line = make_run(tmp_path, THEIRS), make_run(tmp_path, None)
    unlocked = permissions.check_password(password)
    assert unlocked is True
    assert permissions.may_delete(theirs, MINE, unlocked)
    assert permissions.may_delete(command_line, MINE, unlocked)
    permissions.pin_class_model(theirs.id, unlocked, tmp_path)
    assert class_model.pinned_id(tmp_path) == theirs.id
    permissions.delete_run(theirs.id, MINE, unlocked, tmp_path)
    assert class_model.pinned_id(tmp_path) is None  # the deleted class model is unpinned
    assert not (tmp_path / ".class_model.json").exists()
    permissions.delete_run(command_line.id, MINE, unlocked, tmp_path)
    assert runs.list_runs(tmp_path) == []


def test_unpinning_needs_the_teacher(tmp_path, password):
    record = make_run(tmp_path, MINE)
    permissions.pin_class_model(record.id, True, tmp_path)
    with pytest.raises(permissions.NotAllowed):
        permissions.unpin_class_model(False, tmp_path)
    assert class_model.pinned_id(tmp_path) == record.id
    assert permissions.unpin_class_model(True, tmp_path) is True


def test_the_password_is_compared_in_constant_time(monkeypatch, password):
    calls, compare = [], hmac.compare_digest

    def spy(first, second):
        calls.append((first, second))
        return compare(first, second)

    monkeypatch.setattr(permissions.hmac, "compare_digest", spy)
    assert permissions.check_password("correct horse") and not permissions.check_password("x")
    assert calls == [(b"correct horse", PASSWORD.encode()), (b"x", PASSWORD.encode())]


def test_a_unicode_password_works(monkeypatch):
    monkeypatch.setenv(permissions.PASSWORD_VARIABLE, "mot de passe é✓")
    assert permissions.check_password("mot de passe é✓")
    assert not permissions.check_password("mot de passe e✓")


@pytest.mark.parametrize("typed", [None, 123, b"correct horse"])
def test_a_password_must_be_text(password, typed):
    with pytest.raises(ValueError, match="a password is text"):
        permissions.check_password(typed)


def test_a_running_run_is_not_deleted_even_by_its_owner(tmp_path, no_password):
    running = make_run(tmp_path, MINE, state="running")
    assert permissions.may_delete(running, MINE, False)  # the permission...
    with pytest.raises(ValueError, match="still running"):  # ...but not while it trains
        permissions.delete_run(running.id, MINE, False, tmp_path)


@pytest.mark.parametrize("run_id", ["../elsewhere", ".class_model.json", "", "gone"])
def test_deleting_a_bad_or_missing_run_is_a_value_error(tmp_path, no_password, run_id):
    with pytest.raises(ValueError):
        permissions.delete_run(run_id, MINE, False, tmp_path)


def test_refusal_says_why(tmp_path, monkeypatch):
    theirs = make_run(tmp_path, THEIRS)
    monkeypatch.delenv(permissions.PASSWORD_VARIABLE, raising=False)
    assert "CIFAR_TEACHER_PASSWORD" in permissions.refusal(theirs, MINE, False)
    assert permissions.refusal(theirs, THEIRS, False) is None
    monkeypatch.setenv(permissions.PASSWORD_VARIABLE, PASSWORD)
    assert permissions.refusal(theirs, MINE, False) == \
        "Only the tab that started this run, or the teacher, can delete it."
    assert permissions.refusal(theirs, MINE, True) is None


def test_only_the_teacher_deletes_the_class_model(tmp_path, password):
    mine = make_run(tmp_path, MINE)
    permissions.pin_class_model(mine.id, True, tmp_path)
    assert not permissions.may_delete(mine, MINE, False)  # even the student who trained it
    assert permissions.refusal(mine, MINE, False) == \
        "This run is the class model: only the teacher can delete it."
    with pytest.raises(permissions.NotAllowed, match="class model"):
        permissions.delete_run(mine.id, MINE, False, tmp_path)
    class_model.unpin(tmp_path)
    permissions.delete_run(mine.id, MINE, False, tmp_path)  # once unpinned, it is theirs again
    assert runs.list_runs(tmp_path) == []


@pytest.mark.parametrize("teacher_password, pinned, tab, unlocked, allowed, reason", [
    (None, False, MINE, False, True, None),
    (None, False, THEIRS, False, False, "can continue it (the server has no teacher's"),
    (None, False, THEIRS, True, False, "set CIFAR_TEACHER_PASSWORD to let a teacher continue"),
    (PASSWORD, False, THEIRS, False, False, "Only the tab that started this run, or the "
                                            "teacher, can continue it."),
    (PASSWORD, False, THEIRS, True, True, None),
    (PASSWORD, True, MINE, False, False, "This run is the class model: only the teacher "
                                         "can continue it."),
    (PASSWORD, True, THEIRS, True, True, None),
])
def test_resuming_follows_the_rule_of_deleting(tmp_path, monkeypatch, teacher_password, pinned,
                                               tab, unlocked, allowed, reason):
    if teacher_password is None:
        monkeypatch.delenv(permissions.PASSWORD_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(permissions.PASSWORD_VARIABLE, teacher_password)
    mine = make_run(tmp_path, MINE)
    if pinned:
        class_model.pin(mine.id, tmp_path)
    assert permissions.may_change(mine, tab, unlocked) is allowed
    assert permissions.may_delete(mine, tab, unlocked) is allowed  # one rule for both
    refusal = permissions.continue_refusal(mine, tab, unlocked)
    assert refusal is None if reason is None else reason in refusal
