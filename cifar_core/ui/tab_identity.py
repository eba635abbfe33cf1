"""Which browser tab this is: a random token kept in the tab's session.

The classroom has no accounts: a run, a queued run or a sweep belongs to the tab that
asked for it. Every page asks ``tab_id()`` for the same token, so the Train page and the
leaderboard agree on which runs are this tab's. A refresh is a new session, so a new
token (the registry's URL take-over lets a refreshed tab control its running job again,
but only once ``tab_connected`` says the old tab is gone).
"""

import threading
import uuid

import streamlit as st
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

#: The session-state key holding the token (the Train page has used it since it began).
TAB_KEY = "train_session"


@st.cache_resource(show_spinner=False)
def _sessions():
    """token -> the Streamlit session id of the tab holding it, for the whole server."""
    return {}, threading.Lock()


def tab_id():
    """This tab's token: 32 hex characters, the same for every page of one session."""
    token = st.session_state.setdefault(TAB_KEY, uuid.uuid4().hex)
    context = get_script_run_ctx()
    if context is not None:
        sessions, lock = _sessions()
        with lock:
            sessions[token] = context.session_id
    return token


def tab_connected(token):
    """Whether the tab holding ``token`` is still open (its browser session connected).

    False for a token this server never saw (a run queued before a restart), and where
    there is no Streamlit server to ask (tests).
    """
    sessions, lock = _sessions()
    with lock:
        session_id = sessions.get(token)
    if session_id is None or not Runtime.exists():
        return False
    return bool(Runtime.instance().is_active_session(session_id))
