"""The server settings a classroom relies on (.streamlit/config.toml)."""

import tomllib

from streamlit import config

from cifar_core.storage import PROJECT_ROOT


def settings():
    with open(PROJECT_ROOT / ".streamlit" / "config.toml", "rb") as file:
        return tomllib.load(file)


def test_no_full_garbage_collection_after_every_script_run():
    # With TensorFlow loaded, Streamlit's gc.collect() after each run costs ~0.2 s of CPU
    # per rerun of every tab, holding the GIL (bench/bench_classroom.py).
    assert settings()["runner"]["postScriptGC"] is False
    assert config.get_option("runner.postScriptGC") in (True, False)  # a real option


def test_no_file_watcher_under_running_training_jobs():
    assert settings()["server"]["fileWatcherType"] == "none"
