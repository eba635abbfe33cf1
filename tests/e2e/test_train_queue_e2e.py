"""The training queue in a real browser on the real dataset, across a server killed with kill -9:
a run queued behind another trains on the restarted server, under the same link."""

import os
import re
import signal

from cifar_core.training import runs
from tests.e2e.browser import wait_for_script


def open_train_page(browser, url):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.get_by_text("New run").wait_for(timeout=120_000)
    wait_for_script(page)
    return page


def start_run(page, epochs, name):
    """Fill the New run form (folded away while a run trains) and press Start."""
    expander = page.locator("details").filter(has=page.get_by_text("New run"))
    if expander.get_attribute("open") is None:
        page.get_by_text("New run").click()
    page.get_by_label("Epochs", exact=True).wait_for(timeout=120_000)
    wait_for_script(page)
    page.get_by_label("Your name (shown on the class leaderboard)", exact=True).fill(name)
    page.get_by_label("Epochs", exact=True).fill(str(epochs))
    page.get_by_role("button", name="Start training").click()


def test_a_queued_run_survives_a_killed_server(start_app, browser, tmp_path):
    runs_dir = tmp_path / "runs"
    server = start_app(CIFAR_RUNS_DIR=runs_dir)
    teacher = open_train_page(browser, f"{server.url}/train?preset=demo")
    start_run(teacher, 30, "Teacher")  # long enough to be training when the server dies
    teacher.get_by_text("images/s").wait_for(timeout=180_000)

    student = open_train_page(browser, f"{server.url}/train?preset=demo")
    start_run(student, 2, "Ana")
    student.get_by_text(re.compile(r"^Queued: number 1 in line")).wait_for(timeout=60_000)
    student.wait_for_url(re.compile(r"job=\w+"))
    queued = re.search(r"job=(\w+)", student.url).group(1)

    os.kill(server.process.pid, signal.SIGKILL)  # no shutdown, no cleanup
    server.process.wait(30)
    restarted = start_app(CIFAR_RUNS_DIR=runs_dir)
    # The student's tab died with the old server: its link takes the run over.
    again = open_train_page(browser, f"{restarted.url}/train?preset=demo&job={queued}")
    again.get_by_text("images/s").wait_for(timeout=180_000)
    stop = again.get_by_role("button", name=re.compile(r"^Stop \(keeps"))
    stop.click()
    again.get_by_text("Run stopped").wait_for(timeout=180_000)

    records = {record.config["student"]: record for record in runs.list_runs(runs_dir)}
    assert sorted(records) == ["Ana", "Teacher"]
    assert records["Teacher"].state == "interrupted"
    assert records["Ana"].state == "stopped" and records["Ana"].status["queue_id"] == queued
    assert not list((runs_dir / ".queue").glob("*.json"))
