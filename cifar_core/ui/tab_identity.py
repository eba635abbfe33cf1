"""Which browser tab this is: a random token kept in the tab's session.

The classroom has no accounts: a run, a queued run or a sweep belongs to the tab that
asked for it. Every page asks ``tab_id()`` for the same token, so the Train page and the
leaderboard agree on which runs are this tab's. A refresh is a new session, so a new
token (the registry's URL take-over lets a refreshed tab control its running job again).
"""

import uuid

import streamlit as st

#: The session-state key holding the token (the Train page has used it since it began).
TAB_KEY = "train_session"


def tab_id():
    """This tab's token: 32 hex characters, the same for every page of one session."""
    return st.session_state.setdefault(TAB_KEY, uuid.uuid4().hex)
