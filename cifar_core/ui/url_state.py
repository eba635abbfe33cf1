"""Page state in the URL: every view can be shared as a link (``/layers?index=7&layer=conv3``).

Widgets keep their value in the query string; a malformed or stale value in a shared
link falls back to a sensible default instead of a traceback.
"""

import streamlit as st


def query_value(name, default, *, options=None, cast=str):
    """A query-string value parsed with ``cast``; anything malformed gives ``default``.

    A shared link with a typo must show a sensible view, never a traceback.
    """
    raw = st.query_params.get(name)
    if raw is None:
        return default
    try:
        value = cast(raw)
    except (TypeError, ValueError):
        return default
    if options is not None and value not in options:
        return default
    return value


def set_query(**values):
    """Write values into the query string (None removes a key)."""
    for name, value in values.items():
        if value is None:
            if name in st.query_params:
                del st.query_params[name]
        elif st.query_params.get(name) != str(value):
            st.query_params[name] = str(value)


def _store_in_query(key, to_text):
    set_query(**{key: to_text(st.session_state[key])})


def url_state(key, default, *, options=None, cast=str, to_text=str):
    """Tie the widget with ``key`` to the query parameter of the same name.

    Returns the ``on_change`` callback to give the widget. The URL wins when it names a
    value the widget does not hold (someone followed a shared link); otherwise the
    widget's value stands and every change is written back to the URL.
    """
    wanted = query_value(key, default, options=options, cast=cast)
    stale = options is not None and st.session_state.get(key) not in options
    if key not in st.session_state or stale or (
            key in st.query_params and st.session_state[key] != wanted):
        st.session_state[key] = wanted
    else:
        # Assert the value again through the Session State API: pages share some keys
        # (Dataset's and Layers' "split"), and a value the other page's widget left would
        # be ignored by this page's widget, which would then show nothing chosen.
        st.session_state[key] = st.session_state[key]
    set_query(**{key: to_text(st.session_state[key])})
    return lambda: _store_in_query(key, to_text)


def url_flag(key):
    """The ``on_change`` of a toggle with ``key`` kept in the URL as "true"/"false"."""
    return url_state(key, False, cast=lambda text: text == "true",
                     to_text=lambda value: "true" if value else "false")


def url_number(label, key, count, default=0, container=st):
    """A number input 0..count-1 kept in the URL under ``key``; the label shows the range."""
    on_change = url_state(key, min(default, count - 1), options=range(count), cast=int)
    return int(container.number_input(f"{label} (0-{count - 1})", 0, count - 1, step=1, key=key,
                                      on_change=on_change))
