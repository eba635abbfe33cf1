"""Uploaded model files: saved under a safe name, size checked first, imported as a Task."""

import io

import pytest

from cifar_core.models import model_uploads


class CountingStream(io.BytesIO):
    """A stream that counts the bytes read from it (an over-size file is never read)."""

    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


@pytest.mark.parametrize("name, expected", [
    ("model.keras", "model.keras"),
    ("../../etc/passwd.keras", "passwd.keras"),
    ("..\\..\\evil.h5", "evil.h5"),
    ("my model (v2).keras", "my_model_v2_.keras"),
    (".hidden.keras", "hidden.keras"),
    ("", "model"),
])
def test_safe_file_name_stays_in_its_folder(name, expected):
    assert model_uploads.safe_file_name(name) == expected


def test_save_upload_keeps_the_name_in_a_private_folder(tmp_path):
    data = b"PK\x03\x04" + b"x" * 5000
    path = model_uploads.save_upload(io.BytesIO(data), "../notebook.keras", len(data),
                                     directory=tmp_path)
    assert path.name == "notebook.keras" and path.read_bytes() == data
    assert path.parent.parent == tmp_path and path.parent.name.startswith("model-upload-")
    model_uploads.discard_upload(path)
    assert not path.parent.exists() and tmp_path.exists()


@pytest.mark.parametrize("name, size, message", [
    ("model.pt", 10, "not a model file type"),
    ("model.keras", 0, "empty"),
    ("model.h5", model_uploads.MAX_MODEL_BYTES + 1, "200 MB limit"),
])
def test_bad_uploads_are_refused_unread(tmp_path, name, size, message):
    stream = CountingStream(b"x" * 10)
    with pytest.raises(model_uploads.UploadError, match=message) as error:
        model_uploads.save_upload(stream, name, size, directory=tmp_path)
    assert name in str(error.value)
    assert stream.bytes_read == 0 and list(tmp_path.iterdir()) == []


def test_a_stream_longer_than_it_said_is_cut_at_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(model_uploads, "MAX_MODEL_BYTES", 100)
    monkeypatch.setattr(model_uploads, "_CHUNK", 30)
    stream = CountingStream(b"x" * 1000)
    with pytest.raises(model_uploads.UploadError, match="limit"):
        model_uploads.save_upload(stream, "model.keras", 50, directory=tmp_path)
    assert stream.bytes_read <= 120 and list(tmp_path.iterdir()) == []


def test_size_must_be_a_byte_count(tmp_path):
    with pytest.raises(ValueError, match="size"):
        model_uploads.save_upload(io.BytesIO(b"x"), "model.keras", None, directory=tmp_path)


def test_discard_only_removes_upload_folders(tmp_path):
    other = tmp_path / "models"
    other.mkdir()
    (other / "keep.keras").write_bytes(b"x")
    model_uploads.discard_upload(other / "keep.keras")
    assert (other / "keep.keras").exists()
