"""Download tests against a local HTTP server on 127.0.0.1 serving a tiny archive.

Nothing here reaches the internet: the URL and MD5 are parameters of download_cifar10.
"""

import functools
import http.server

import numpy as np
import pytest

from cifar_core.data import DatasetError, cifar10


def _files_in(folder):
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def test_download_with_right_md5_lands_in_cache_and_loads(archive_server, tmp_path):
    cache = tmp_path / "cache"
    calls = []
    path = cifar10.download_cifar10(f"{archive_server['base']}/cifar-10-python.tar.gz",
                                 archive_server["md5"],
                                 cache_dir=cache, progress=lambda *call: calls.append(call))
    assert path == cache / cifar10.ARCHIVE_NAME and path.stat().st_size == archive_server["size"]
    assert _files_in(cache) == [path], "no temporary file is left next to it"
    assert calls[0] == ("download", 0, archive_server["size"])
    assert calls[-1] == ("download", archive_server["size"], archive_server["size"])
    assert all(stage == "download" for stage, _, _ in calls)
    dataset = cifar10.load_cifar10(path, cache_dir=cache, expected_counts=None)
    np.testing.assert_array_equal(dataset.y_train, archive_server["arrays"][1])


def test_existing_download_with_right_md5_is_reused(archive_server, tmp_path):
    url = f"{archive_server['base']}/cifar-10-python.tar.gz"
    cifar10.download_cifar10(url, archive_server["md5"], cache_dir=tmp_path)
    cifar10.download_cifar10(url, archive_server["md5"].upper(), cache_dir=tmp_path)
    assert len(archive_server["httpd"].requests) == 1


@pytest.mark.parametrize("route, md5, message", [
    ("/cifar-10-python.tar.gz", "0" * 32, "wrong checksum: MD5 [0-9a-f]{32}, expected 0{32}"),
    ("/dropped/cifar-10-python.tar.gz", None, "connection dropped after"),
    ("/missing.tar.gz", None, "HTTP 404"),
], ids=["wrong-md5", "dropped", "not-found"])
def test_failed_download_raises_and_leaves_nothing(archive_server, tmp_path, route, md5, message):
    cache = tmp_path / "cache"
    url = archive_server["base"] + route
    with pytest.raises(DatasetError, match=rf"{url}: .*{message}"):
        cifar10.download_cifar10(url, md5 or archive_server["md5"], cache_dir=cache)
    assert _files_in(cache) == []


def test_refused_connection_is_a_dataset_error(tmp_path):
    httpd = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    port = httpd.server_port
    httpd.server_close()  # nothing listens on this port now
    with pytest.raises(DatasetError, match="download failed"):
        cifar10.download_cifar10(f"http://127.0.0.1:{port}/cifar-10-python.tar.gz", "0" * 32,
                              cache_dir=tmp_path / "cache")
    assert _files_in(tmp_path / "cache") == []


@pytest.mark.parametrize("md5", ["abc", None, "z" * 32])
def test_bad_md5_argument_is_a_value_error(tmp_path, md5):
    with pytest.raises(ValueError, match="md5 must be 32 hex digits"):
        cifar10.download_cifar10("http://127.0.0.1:9/x.tar.gz", md5, cache_dir=tmp_path)


def test_load_downloads_when_nothing_is_found(archive_server, tmp_path, monkeypatch):
    monkeypatch.delenv("CIFAR10_PATH", raising=False)
    local = functools.partial(cifar10.download_cifar10,
                              f"{archive_server['base']}/cifar-10-python.tar.gz",
                              archive_server["md5"])
    monkeypatch.setattr(cifar10, "download_cifar10", local)
    cache = tmp_path / "cache"
    stages = set()
    dataset = cifar10.load_cifar10(cache_dir=cache, expected_counts=None,
                                progress=lambda stage, done, total: stages.add(stage))
    assert dataset.source == str(cache / cifar10.ARCHIVE_NAME)
    assert stages == {"download", "parse", "cache"}
    assert cifar10.find_cifar10(cache_dir=cache) == cache / cifar10.ARCHIVE_NAME


def test_damaged_file_in_cache_is_replaced_by_a_fresh_download(archive_server, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / cifar10.ARCHIVE_NAME).write_bytes(b"half a file")
    path = cifar10.download_cifar10(f"{archive_server['base']}/cifar-10-python.tar.gz",
                                 archive_server["md5"],
                                 cache_dir=cache)
    assert path.read_bytes() == archive_server["httpd"].payload
