"""CIFAR-10 CNN Explorer: `streamlit run app.py`."""

import streamlit as st

from cifar_core import ui

st.set_page_config(page_title="CIFAR-10 CNN Explorer", page_icon=":material/grid_view:",
                   layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/lessons.py", title="Lessons", icon=":material/school:"),
    st.Page("pages/models.py", title="Models", icon=":material/neurology:"),
    st.Page("pages/dataset.py", title="Dataset", icon=":material/photo_library:"),
    st.Page("pages/layers.py", title="Layers", icon=":material/layers:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/leaderboard.py", title="Class leaderboard", icon=":material/leaderboard:"),
    st.Page("pages/classify.py", title="Classify", icon=":material/image_search:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/analytics:"),
]

ui.projector_mode()  # ?present=1: large text for the back row
st.navigation(PAGES).run()
