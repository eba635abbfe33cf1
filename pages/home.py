"""Home: what CIFAR-10 is, what a CNN does, the way through the app, and its status."""

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from cifar_core import ui
from cifar_core.models import catalog

st.title("CIFAR-10 CNN Explorer")
st.markdown(
    "Look inside a convolutional neural network, layer by layer, on the classic "
    "**CIFAR-10** dataset: 60,000 tiny colour photos (32 x 32 pixels) of ten kinds of "
    "things — airplane, automobile, bird, cat, deer, dog, frog, horse, ship and truck."
)

st.header("What a CNN does")
st.markdown(
    "A **convolution** slides a small filter (for example 3 x 3 pixels x 3 colours) over "
    "the image and, at every position, multiplies the pixels under it by the filter's "
    "weights and adds them up: a high number means *this pattern is here*. Stacking such "
    "layers, with pooling to shrink the image, lets the network go from edges and colour "
    "blobs to wheels, ears and wings, and finally to a probability for each class."
)

st.header("The way through")
steps = [
    ("pages/lessons.py", "Lessons", "ready-made lessons that walk a class through these pages."),
    ("pages/models.py", "Models", "the networks on offer, inside and out; bring your own."),
    ("pages/dataset.py", "Dataset", "browse the images and zoom into one down to its pixels."),
    ("pages/layers.py", "Layers", "follow one image through every convolution layer."),
    ("pages/train.py", "Train", "train a network and watch it learn, live; queue, resume, sweep."),
    ("pages/leaderboard.py", "Class leaderboard", "every run of the class, best first."),
    ("pages/classify.py", "Classify", "try the model on your own photos or the camera."),
    ("pages/evaluate.py", "Evaluate", "see what the model gets wrong, and why."),
]
for path, title, text in steps:
    try:
        st.page_link(path, label=f"**{title}**: {text}")
    except StreamlitPageNotFoundError:
        pass  # That page is not part of this version of the app.

st.header("Status")
found, message = ui.dataset_status()
(st.success if found else st.warning)(message, icon=":material/dataset:")
models = catalog.available_models()
if models:
    st.success("Models ready: " + ", ".join(entry.label for entry in models),
               icon=":material/neurology:")
else:
    st.info("No trained model yet: the Layers, Classify and Evaluate pages need one. "
            "Train one on the Train page.", icon=":material/neurology:")
