"""Which browser tab controls which run: owners, their last polls, take-overs.

A tab controls (may stop or cancel) a run it started, or a waiting run it queued; every
other tab may watch. After a refresh, which is a new session, the old tab stops polling:
once it has been quiet for ``orphan_after`` seconds, a tab that names the run in its URL
takes it over, unless the UI says the owner's tab is still open somewhere. A run restored
from the on-disk queue after a restart has no tab left: a link may take it over at once.

``RunControl`` keeps these tables for ``job_registry.JobRegistry``, which holds its lock
around every call, and counts a tab's waiting submissions for the registry's per-tab
limit. It never touches Streamlit; no TensorFlow here.
"""

import time

#: Seconds without a poll after which a session is taken to have left its job.
ORPHAN_AFTER_SECONDS = 4.0


class RunControl:
    """The owner of each job or waiting run (by id) and when that owner last polled it.

    ``owner`` is any string naming a browser tab. Not thread-safe on its own: the registry
    calls it under its lock.
    """

    def __init__(self, orphan_after=ORPHAN_AFTER_SECONDS):
        self.orphan_after = orphan_after
        self._owners = {}  # job or entry id -> owner
        self._seen = {}  # job or entry id -> time.monotonic() of the owner's last poll

    def add(self, run_id, owner, *, seen=None):
        """Give ``run_id`` to ``owner``, polling at ``seen`` (default: now; ``float("-inf")``
        for a run whose tab is gone, which a link may take over at once)."""
        self._owners[run_id] = owner
        self._seen[run_id] = time.monotonic() if seen is None else seen

    def forget(self, run_id):
        """Drop ``run_id`` (cancelled, or a finished job the registry no longer keeps)."""
        self._owners.pop(run_id, None)
        self._seen.pop(run_id, None)

    def owner(self, run_id):
        """The tab that controls ``run_id`` (None when unknown)."""
        return self._owners.get(run_id)

    def controls(self, run_id, owner, *, owner_connected=None, now=None):
        """Whether ``owner`` controls the known ``run_id``; records that it is polling.

        A session that is not the owner takes it over when the owner has not polled for
        ``orphan_after`` seconds: the old tab was refreshed or closed. ``owner_connected``
        (a function of an owner, the UI's) says whether the owner's tab is still open
        somewhere; then it keeps its run however long it has been on another page, so a
        classmate who opens a shared ``?job=`` link cannot stop or cancel it. ``now`` is a
        ``time.monotonic()`` taken by the caller (default: now).
        """
        now = time.monotonic() if now is None else now
        previous = self._owners[run_id]
        if previous != owner and now - self._seen[run_id] > self.orphan_after \
                and not (owner_connected is not None and owner_connected(previous)):
            self._owners[run_id] = owner
        if self._owners[run_id] == owner:
            self._seen[run_id] = now
            return True
        return False

    def waiting_submissions(self, owner, entries):
        """The submissions (a sweep counts once) of ``owner`` among the queue's ``entries``:
        what the per-tab limit counts."""
        return {entry.submission for entry in entries if self._owners.get(entry.id) == owner}
