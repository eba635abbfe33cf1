"""Waiting in AppTest for work a page does in the background (AppTest cannot wait on run_every)."""

import time


def run_until(app, condition, seconds=120):
    """Rerun the page (as run_every would) until ``condition(app)`` holds; the app."""
    deadline = time.monotonic() + seconds
    while not condition(app):
        assert time.monotonic() < deadline, "the page never reached the expected state"
        assert not app.exception, app.exception
        time.sleep(0.5)
        app.run()
    return app
