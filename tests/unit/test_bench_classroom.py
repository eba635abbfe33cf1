"""The classroom benchmark's helpers: statistics, /proc CPU time, the Streamlit protocol."""

import asyncio
import concurrent.futures
import os
import random

import pytest
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench import bench_classroom, load_statistics, streamlit_tab


def run_in_own_loop(coroutine):
    """``asyncio.run`` in a thread of its own: the browser tests' Playwright keeps an event
    loop running in the main thread for the whole session."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.mark.parametrize("fraction, expected", [(0.5, 10), (0.95, 19), (1.0, 20), (0.0, 1),
                                                (0.01, 1), (0.51, 11)])
def test_percentile_is_the_nearest_rank(fraction, expected):
    values = list(range(20, 0, -1))  # 1..20 in any order
    assert load_statistics.percentile(values, fraction) == expected


@pytest.mark.parametrize("values, fraction", [([], 0.5), ([1.0], 1.5), ([1.0], -0.1)])
def test_percentile_refuses_bad_arguments(values, fraction):
    with pytest.raises(ValueError):
        load_statistics.percentile(values, fraction)


def test_summarise_groups_and_counts_unfinished_requests():
    samples = [("home", 0.1, "finished"), ("home", 0.3, "finished"), ("home", 0.2, "finished"),
               ("layers", 2.0, "finished"), ("layers", 60.0, "timeout"),
               ("layers", 0.5, "interrupted")]
    summaries = load_statistics.summarise(samples)
    assert summaries["home"] == load_statistics.Summary(3, 0.2, 0.3, 0.3, 0)
    # A timeout counts at the time the student waited; an interrupted run is not timed.
    assert summaries["layers"] == load_statistics.Summary(2, 2.0, 60.0, 60.0, 2)
    assert summaries["all"].count == 5 and summaries["all"].unfinished == 2


def test_cpu_seconds_reads_user_and_system_ticks(tmp_path):
    ticks = os.sysconf("SC_CLK_TCK")
    (tmp_path / "42").mkdir()
    # The command name may hold spaces and parentheses; fields 14 and 15 are utime, stime.
    fields = ["S", "1", "42", "42", "0", "-1", "4194560", "10", "0", "0", "0",
              str(3 * ticks), str(ticks), "0", "0", "20", "0", "9"]
    (tmp_path / "42" / "stat").write_text("42 (python (x) y) " + " ".join(fields) + "\n")
    assert load_statistics.cpu_seconds(42, proc=str(tmp_path)) == pytest.approx(4.0)
    assert load_statistics.cpu_seconds(os.getpid()) >= 0


def test_rerun_message_carries_page_query_widgets_and_fragment():
    state = streamlit_tab.widget_value("$$ID-abc-layer", "string_value", "conv2")
    rows = streamlit_tab.widget_value("$$ID-def-row", "double_array_value", [3.0])
    message = BackMsg()
    message.ParseFromString(streamlit_tab.rerun_message(
        "layers", "model=seed", [state, rows], fragment_id="f1", auto=True).SerializeToString())
    rerun = message.rerun_script
    assert (rerun.page_name, rerun.query_string, rerun.fragment_id, rerun.is_auto_rerun) == (
        "layers", "model=seed", "f1", True)
    widgets = {widget.id: widget for widget in rerun.widget_states.widgets}
    assert widgets["$$ID-abc-layer"].string_value == "conv2"
    assert list(widgets["$$ID-def-row"].double_array_value.data) == [3.0]


@pytest.mark.parametrize("widget_id, key", [
    ("$$ID-0123abcd-layer", "layer"), ("$$ID-0123abcd-with-dashes", "with-dashes"),
    ("$$ID-0123abcd-None", None), ("other", None)])
def test_user_key(widget_id, key):
    assert streamlit_tab.user_key(widget_id) == key


def test_changed_value_stays_within_the_widgets_choices():
    message = ForwardMsg()
    selectbox = message.delta.new_element.selectbox
    selectbox.id, selectbox.options[:] = "$$ID-1-layer", ["conv1", "conv2", "conv3"]
    number = ForwardMsg().delta.new_element.number_input
    number.id, number.has_min, number.min, number.has_max, number.max = "$$ID-2-page", True, 1, \
        True, 5
    generator = random.Random(0)
    for _ in range(20):
        chosen = bench_classroom.changed_value(
            selectbox.id, streamlit_tab.Widget("selectbox", selectbox), generator)
        assert chosen.string_value in ("conv1", "conv2", "conv3")
        page = bench_classroom.changed_value(
            number.id, streamlit_tab.Widget("number_input", number), generator)
        assert 1 <= page.double_value <= 5
    assert bench_classroom.changed_value("x", streamlit_tab.Widget("markdown", None),
                                         generator) is None


def test_a_tab_times_a_rerun_and_learns_its_widgets_from_a_server():
    """A stand-in server: answers a rerun with one selectbox and script_finished; the
    selectbox is a large (cacheable) message, sent as a reference to a tab that has it."""
    from websockets.asyncio.server import serve

    received = []

    async def app(connection):
        async for data in connection:
            message = BackMsg()
            message.ParseFromString(data)
            received.append(message.rerun_script)
            drawn = ForwardMsg(hash="h1")
            drawn.metadata.cacheable = True
            drawn.delta.new_element.selectbox.id = "$$ID-9f-layer"
            drawn.delta.new_element.selectbox.options[:] = ["conv1", "conv2"]
            if "h1" in message.rerun_script.cached_message_hashes:
                drawn = ForwardMsg(ref_hash="h1")
            await connection.send(drawn.SerializeToString())
            finished = ForwardMsg()
            finished.script_finished = ForwardMsg.FINISHED_SUCCESSFULLY
            await connection.send(finished.SerializeToString())

    async def scenario():
        async with serve(app, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            tab = streamlit_tab.Tab(f"ws://127.0.0.1:{port}/_stcore/stream", timeout=10)
            await tab.open()
            opened = await tab.visit("layers", "model=seed")
            widget_id, widget = tab.find(key="layer")
            changed = await tab.rerun([streamlit_tab.widget_value(widget_id, "string_value",
                                                                  "conv2")])
            assert tab.find(key="layer") is not None  # drawn from the tab's own cache
            gone = await tab.poll_fragment("no-such-fragment")
            await tab.close()
            return opened, changed, gone, widget

    opened, changed, gone, widget = run_in_own_loop(scenario())
    assert opened.status == changed.status == "finished" and opened.seconds > 0
    assert widget.kind == "selectbox" and list(widget.proto.options) == ["conv1", "conv2"]
    assert gone is None  # a fragment the page no longer has is not polled
    assert [rerun.page_name for rerun in received] == ["layers", "layers"]
    assert received[0].query_string == "model=seed" and not received[0].widget_states.widgets
    assert received[1].widget_states.widgets[0].string_value == "conv2"
    assert list(received[0].cached_message_hashes) == []
    assert list(received[1].cached_message_hashes) == ["h1"]
