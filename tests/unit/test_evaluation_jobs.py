"""Background evaluations: one job per key, progress, errors, forgetting a failed job."""

import numpy as np

from cifar_core import evaluation, evaluation_jobs


def test_real_tiny_model_through_the_job(tiny_model_path, tmp_path, monkeypatch):
    monkeypatch.setenv("CIFAR10_CACHE_DIR", str(tmp_path / "cache"))
    generator = np.random.default_rng(1)
    images = generator.integers(0, 256, (12, 32, 32, 3), dtype=np.uint8)
    labels = generator.integers(0, 10, 12)
    job = evaluation_jobs.EvaluationJob(tiny_model_path, images, labels, f"test {tmp_path}").start()
    job.thread.join(timeout=60)
    assert job.finished and job.error is None, job.error
    np.testing.assert_allclose(job.result.probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert (job.done, job.total) == (12, 12)
    assert evaluation.load_cached(tiny_model_path, labels, f"test {tmp_path}") is not None


def test_job_reports_a_broken_model_file(tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a model")
    job = evaluation_jobs.EvaluationJob(broken, np.zeros((2, 32, 32, 3), np.uint8),
                                   np.zeros(2, np.int64), "x").start()
    job.thread.join(timeout=60)
    assert job.result is None and "ModelError" in job.error


def test_registry_starts_one_job_per_key_and_forgets_on_request(tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a model")
    images, labels = np.zeros((2, 32, 32, 3), np.uint8), np.zeros(2, np.int64)
    jobs = evaluation_jobs.EvaluationJobs()
    first = jobs.get_or_start("k", broken, images, labels, "x")
    assert jobs.get_or_start("k", broken, images, labels, "x") is first  # a second visitor
    assert jobs.get_or_start("other", broken, images, labels, "x") is not first
    first.thread.join(timeout=60)
    assert first.error  # a failed job stays, so every page shows the error...
    assert jobs.get_or_start("k", broken, images, labels, "x") is first
    jobs.forget("k")  # ...until "Try again" forgets it
    again = jobs.get_or_start("k", broken, images, labels, "x")
    assert again is not first
    again.thread.join(timeout=60)
