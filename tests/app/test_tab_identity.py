"""A tab's token, and whether the tab holding a token is still open."""

from streamlit.testing.v1 import AppTest

from cifar_core.ui import tab_identity


def page():
    import streamlit as st

    from cifar_core import ui

    st.text(ui.tab_id())
    st.text(ui.tab_id())


class FakeRuntime:
    """A server whose only open session is ``open_session``."""

    open_session = None

    @classmethod
    def exists(cls):
        return True

    @classmethod
    def instance(cls):
        return cls()

    def is_active_session(self, session_id):
        return session_id == self.open_session


def test_one_token_per_tab_and_its_session_is_asked_whether_it_is_open(monkeypatch):
    app = AppTest.from_function(page).run()
    first, again = (element.value for element in app.text)
    assert first == again and len(first) == 32
    assert not tab_identity.tab_connected(first)  # no Streamlit server to ask: not open
    sessions, _ = tab_identity._sessions()
    monkeypatch.setattr(tab_identity, "Runtime", FakeRuntime)
    FakeRuntime.open_session = sessions[first]
    assert tab_identity.tab_connected(first)
    FakeRuntime.open_session = "another session"  # the tab was closed or refreshed
    assert not tab_identity.tab_connected(first)
    assert not tab_identity.tab_connected("a token this server never saw")
