"""Everything that imports Streamlit: what pages share beyond widgets and charts.

- ``runtime``: app.py's navigation for deep links; Keras state kept between script runs.
- ``url_state``: widgets tied to the query string, so every view is a shareable link.
- ``dataset_panel``: the server's cached dataset, or how to get it (path, cache, download).
- ``model_picker``: the model selectbox over the catalogue; loaded models cached per server.
- ``picture_display``: NumPy pictures shown as lossless PNGs.
- ``tile_grid``: the Dataset page's clickable grid of images (a components v2 component);
  it says once a tab has drawn it, so charts needing Plotly.js can wait.
- ``task_panel``, ``job_panel``: progress of background work (page tasks; training runs and
  the queue before them).
- ``image_picker``: the Layers page's image: dataset index, random pick, or an upload.
- ``feature_visualisation_panel``: the Layers page's "What a filter wants to see".
- ``attribution_panel``: the Classify page's heat-map controls, maps (background when big),
  sanity check.
- ``image_gallery``: galleries of test images, each linked to the Layers page (Evaluate's).
- ``embedding_panel``: the Evaluate page's "Where the test images live": the map, the clicked
  image, its Layers link.
- ``label_issues_panel``: the Evaluate page's "Which labels look wrong?".
- ``augmentation_panel``: the Dataset page's "What augmentation does" (TensorFlow only once
  asked for).
- ``training_histograms_panel``: the Train page's "What training changed": a run's weight and
  activation histograms.
- ``design_panel``: the Train page's "Design a network": blocks, templates, live layer table
  and diagram, JSON download/upload.
- ``convolution_panel``: the Layers page's convolution step by step (the first convolution,
  any kind).
- ``untrained_panel``: the Layers page's trained versus untrained (a re-initialised clone).
- ``models_panel``: the Models page's catalogue, one model's card, graph, scaling, files,
  delete.
- ``model_upload_panel``: the Models page's "Bring your own model" (upload, import task).
- ``lesson_panel``: the Lessons page: the lesson chooser, a step with its view, problems.
- ``tab_identity``: this browser tab's token: whose runs, queued runs and sweeps are whose.
- ``resume_panel``: the Train page's resume of a stopped or interrupted run, "train N more
  epochs" of a finished one.
- ``sweep_panel``: the Train page's "Sweeps": the launch form (fields, values, run count and
  time) and the sweep view (states, accuracy chart, overlaid curves).
- ``leaderboard_panel``: the Class leaderboard page (board, class model, teacher's box) and
  the delete control the Train page shares.
- ``shared_cache``: what many tabs draw alike, made once per server: Plotly figures and PNG
  bytes, keyed by content.
- ``projector``: projector mode (``?present=1``), large text for the back row; app.py's.

Pages write ``from cifar_core import ui`` and call the helpers below; the panels and the
image picker are imported by the pages that use them (they pull in more).
"""

from cifar_core.ui.dataset_panel import dataset, dataset_status
from cifar_core.ui.model_picker import model, model_picker
from cifar_core.ui.picture_display import show_picture
from cifar_core.ui.projector import projector_mode
from cifar_core.ui.runtime import use_app_navigation
from cifar_core.ui.tab_identity import tab_connected, tab_id
from cifar_core.ui.url_state import query_value, set_query, url_flag, url_number, url_state

__all__ = ["dataset", "dataset_status", "model", "model_picker", "projector_mode",
           "query_value", "set_query", "show_picture", "tab_connected", "tab_id", "url_flag",
           "url_number", "url_state", "use_app_navigation"]
