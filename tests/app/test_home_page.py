"""AppTest for the Home page: explanation, navigation, dataset and model status."""

from streamlit.testing.v1 import AppTest

from tests.paths import APP_PATH


def test_home_explains_and_reports_status(real_cifar_path):
    app = AppTest.from_file(APP_PATH, default_timeout=60).run()
    assert not app.exception
    assert app.title[0].value == "CIFAR-10 CNN Explorer"
    text = " ".join(block.value for block in app.markdown)
    assert "convolution" in text and "32 x 32" in text
    assert any("CIFAR-10 found at" in message.value for message in app.success)
    links = [link.proto.label for link in app.get("page_link")]
    assert [label.split("**")[1] for label in links] == [  # the way through
        "Lessons", "Models", "Dataset", "Layers", "Train", "Class leaderboard", "Classify",
        "Evaluate"]


def test_home_says_when_the_dataset_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_PATH", str(tmp_path / "missing.tar.gz"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "cache"))
    app = AppTest.from_file(APP_PATH, default_timeout=60).run()
    assert not app.exception
    assert app.warning and "missing.tar.gz" in app.warning[0].value
