"""Class leaderboard: every run on the server by best validation accuracy; the teacher's tools."""

import streamlit as st

from cifar_core import ui
from cifar_core.ui import leaderboard_panel

ui.use_app_navigation()
me = ui.tab_id()  # this browser tab: which runs are its own
st.title("Class leaderboard")
st.caption("Every run trained on this server, by anyone in the class, best first. Names are "
           "the ones typed on the Train page.")

st.header("Runs by best validation accuracy")
places = leaderboard_panel.board(me)

st.header("The class model")
leaderboard_panel.class_model_section()
leaderboard_panel.teacher_box()

if places:
    st.header("Pin or delete a run")
    record = leaderboard_panel.run_chooser(places)
    if record is not None:
        leaderboard_panel.pin_control(record)
        leaderboard_panel.delete_control(record, me)
