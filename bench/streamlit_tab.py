"""One browser tab's worth of Streamlit traffic, without a browser: the app's WebSocket protocol.

A tab connects to ``ws://HOST:PORT/_stcore/stream`` as the browser does and sends ``BackMsg``
protobufs: ``rerun_script`` with the page (its URL name), the query string and the widget
values this tab has set, as the browser sends them after a click. The server answers with
``ForwardMsg``s (deltas drawing the page, then ``script_finished``); the time from the send
to ``script_finished`` is the page rerun the student waits for. Deltas name every widget
(``$$ID-<hash>-<key>``), so a tab can change a widget by its key or label like a click
would; ``auto_rerun`` messages (``st.fragment(run_every=...)``) are polled as the browser
polls them. Like the browser, a tab keeps the large elements it received (charts, images)
and tells the server their hashes, which then sends a reference instead of the element
again. One request at a time per tab, as in a browser.
"""

import asyncio
import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

#: ForwardMsg.script_finished values that end a request, by name.
FINISHED = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "finished",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile error",
    ForwardMsg.FINISHED_EARLY_FOR_RERUN: "interrupted",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "finished",
}


def rerun_message(page, query="", widgets=(), *, fragment_id="", auto=False, cached=()):
    """The BackMsg a browser sends to (re)run ``page`` (its URL name, "" = the default page)
    with ``query`` (no "?"), the ``widgets`` (WidgetState protos) it holds and the hashes of
    the large messages it has ``cached`` (the server sends a reference for those)."""
    message = BackMsg()
    state = message.rerun_script
    state.query_string = query
    state.page_name = page
    state.widget_states.widgets.extend(widgets)
    state.fragment_id = fragment_id
    state.is_auto_rerun = auto
    state.cached_message_hashes.extend(cached)
    return message


def widget_value(widget_id, value_type, value):
    """One WidgetState: ``value_type`` is its proto field ("string_value", "double_value",
    "bool_value", "trigger_value", ...), set to ``value``."""
    state = WidgetState(id=widget_id)
    target = getattr(state, value_type)
    if hasattr(target, "data"):  # the array types: DoubleArray, StringArray, SInt64Array
        target.data.extend(value)
    else:
        setattr(state, value_type, value)
    return state


def user_key(widget_id):
    """The key a page gave a widget ("$$ID-<hash>-layer" -> "layer"), or None without one."""
    parts = widget_id.split("-", 2)
    return parts[2] if len(parts) == 3 and parts[0] == "$$ID" and parts[2] != "None" else None


@dataclass
class Widget:
    """A widget the last run drew: its element type ("selectbox", ...), proto and fragment."""

    kind: str
    proto: object
    fragment_id: str = ""


@dataclass
class Reply:
    """What one request got: status ("finished", "interrupted", ...), seconds, errors shown."""

    status: str
    seconds: float
    exceptions: list = field(default_factory=list)


class Tab:
    """One student's browser tab on the app at ``url`` (ws://host:port/_stcore/stream)."""

    def __init__(self, url, *, timeout=120.0):
        self.url = url
        self.timeout = timeout
        self.widgets = {}  # id -> Widget, as the last full run drew them
        self.states = {}  # id -> WidgetState this tab has set (sent with every rerun)
        self.fragments = {}  # fragment id -> auto-rerun interval in seconds
        self.cache = {}  # hash -> ForwardMsg the server marked cacheable (browser's cache)
        self.page = ""
        self.query = ""
        self._connection = None
        self._reader = None
        self._pending = None  # (future, exceptions) of the request in flight
        self._lock = asyncio.Lock()

    async def open(self):
        from websockets.asyncio.client import connect

        self._connection = await connect(self.url, subprotocols=["streamlit"], max_size=None,
                                         compression=None, open_timeout=self.timeout)
        self._reader = asyncio.create_task(self._read())

    async def close(self):
        if self._connection is not None:
            await self._connection.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def visit(self, page, query=""):
        """Open ``page`` as a link would: widgets forgotten, the query string as given."""
        self.page, self.query = page, query
        self.states = {}
        return await self._send(rerun_message(page, query, cached=self.cache))

    async def rerun(self, changes=()):
        """Rerun the current page with this tab's widget values, ``changes`` applied first."""
        for state in changes:
            self.states[state.id] = state
        return await self._send(rerun_message(self.page, self.query, self.states.values(),
                                              cached=self.cache))

    async def poll_fragment(self, fragment_id):
        """What the browser sends every ``run_every`` seconds for a live fragment; None where
        the fragment is gone by the time this tab's run in flight ends (its page changed)."""
        return await self._send(rerun_message(self.page, self.query, self.states.values(),
                                              fragment_id=fragment_id, auto=True,
                                              cached=self.cache),
                                full=False, fragment_id=fragment_id)

    def find(self, *, key=None, label=None, kind=None):
        """The widget the last run drew with this user ``key`` (or ``label``), else None."""
        for widget_id, widget in self.widgets.items():
            if kind is not None and widget.kind != kind:
                continue
            if key is not None and user_key(widget_id) == key:
                return widget_id, widget
            if label is not None and getattr(widget.proto, "label", None) == label:
                return widget_id, widget
        return None

    async def _send(self, message, *, full=True, fragment_id=None):
        async with self._lock:  # a browser tab has one run in flight at a time
            if fragment_id is not None and fragment_id not in self.fragments:
                return None  # The server ignores a fragment that no longer exists.
            if full:
                self.widgets, self.fragments = {}, {}
            future = asyncio.get_running_loop().create_future()
            exceptions = []
            self._pending = (future, exceptions)
            started = time.perf_counter()
            await self._connection.send(message.SerializeToString())
            try:
                status = await asyncio.wait_for(future, self.timeout)
            except TimeoutError:
                status = "timeout"
            finally:
                self._pending = None
            return Reply(status, time.perf_counter() - started, exceptions)

    async def _read(self):
        async for data in self._connection:
            message = ForwardMsg()
            message.ParseFromString(data)
            kind = message.WhichOneof("type")
            if kind == "ref_hash" and message.ref_hash in self.cache:
                message = self.cache[message.ref_hash]  # an element this tab has had
                kind = message.WhichOneof("type")
            elif message.metadata.cacheable and message.hash:
                self.cache[message.hash] = message
            if kind == "new_session" and not message.metadata.run.fragment_ids:
                # A full run starts (also one a page's st.rerun began): the browser drops
                # the old page's fragment timers; the run re-sends those it still has.
                self.widgets, self.fragments = {}, {}
            elif kind == "delta":
                self._element(message.delta)
            elif kind == "auto_rerun":
                self.fragments[message.auto_rerun.fragment_id] = message.auto_rerun.interval
            elif kind == "script_finished" and self._pending is not None:
                future, _ = self._pending
                if not future.done():
                    future.set_result(FINISHED.get(message.script_finished, "finished"))

    def _element(self, delta):
        if delta.WhichOneof("type") != "new_element":
            return
        element = delta.new_element
        kind = element.WhichOneof("type")
        proto = getattr(element, kind) if kind else None
        if kind == "exception" and self._pending is not None:
            self._pending[1].append(f"{proto.type}: {proto.message}")
        widget_id = getattr(proto, "id", "")
        if widget_id.startswith("$$ID"):
            self.widgets[widget_id] = Widget(kind, proto, delta.fragment_id)
