"""Models: every model the app offers, one up close (card, graph, files), and your own.

``/models?model=fast`` opens a model's card; an uploaded model file joins the catalogue
and every model chooser (``cifar_core.models.importing``).
"""

import streamlit as st

from cifar_core import ui
from cifar_core.ui import model_upload_panel, models_panel

st.title("Models: ours, yours, and how they are built")
ui.use_app_navigation()
entries = models_panel.entries()

st.header("Every model in the app")
if entries:
    st.caption("Shipped with the app, trained on the Train page, or imported here. Each one "
               "works on every page.")
    models_panel.catalogue_table(entries)
else:
    st.info("No model yet: upload one below, or train one on the Train page.",
            icon=":material/info:")

model_upload_panel.upload_section()

if entries:
    st.header("One model up close")
    entry = ui.model_picker(default="seed")
    models_panel.model_section(entry)
