"""Dataset: browse CIFAR-10, zoom into one image down to its pixels, class statistics."""

import numpy as np
import streamlit as st

from cifar_core import ui
from cifar_core.data import browse
from cifar_core.display import pictures, plots
from cifar_core.ui import augmentation_panel, shared_cache, tile_grid

data = ui.dataset()
names = data.class_names

st.title("The CIFAR-10 dataset")
st.caption(f"{len(data.x_train):,} training and {len(data.x_test):,} test images, "
           f"32 x 32 pixels, 3 colour channels, {len(names)} classes. Source: `{data.source}`")


def classes_from_text(text):
    """"3,5" -> [3, 5]; ValueError for anything that is not a list of class numbers."""
    values = [int(part) for part in text.split(",") if part != ""]
    if any(value < 0 or value >= len(names) for value in values):
        raise ValueError(f"class numbers must be 0-{len(names) - 1}: {text!r}")
    return values


def forget_selection():
    """A new grid starts with its first image selected, not one from the last grid."""
    st.session_state.pop("index", None)
    ui.set_query(index=None)


def grid_changed(store_in_url):
    return lambda: (store_in_url(), forget_selection())


def random_sample():
    st.session_state.seed = int(np.random.default_rng().integers(1, 10**6))
    st.session_state.page = 1
    ui.set_query(seed=st.session_state.seed, page=1)
    forget_selection()


# --- choosing what the grid shows -----------------------------------------------------
controls = st.columns([1.1, 3, 1, 1, 1, 1.2], vertical_alignment="bottom")
split = controls[0].segmented_control(
    "Split", ["train", "test"], key="split",
    on_change=grid_changed(ui.url_state("split", "train", options=["train", "test"]))) or "train"
classes = controls[1].multiselect(
    "Classes (none = all)", list(range(len(names))), key="classes", format_func=names.__getitem__,
    on_change=grid_changed(ui.url_state("classes", [], cast=classes_from_text,
                           to_text=lambda values: ",".join(map(str, values)))))
columns = controls[2].selectbox(
    "Grid", browse.GRID_SIZES, key="grid", format_func=lambda size: f"{size} x {size}",
    on_change=grid_changed(ui.url_state("grid", 8, options=browse.GRID_SIZES, cast=int)))
seed = controls[3].number_input(
    "Shuffle seed", min_value=0, max_value=2**31 - 1, step=1, key="seed",
    help="0 keeps dataset order; any other number shows a reproducible random sample.",
    on_change=grid_changed(ui.url_state("seed", 0, cast=int)))
controls[5].button("Shuffle", icon=":material/shuffle:", on_click=random_sample,
                   help="Show a new random sample (sets a new seed).")

images, labels = data.split(split)
indices = browse.select_indices(labels, classes, shuffle_seed=seed or None)
if len(indices) == 0:
    st.info("No image of the chosen classes in this split.")
    st.stop()
per_page = columns * columns
pages = browse.page_count(len(indices), per_page)
page = controls[4].number_input(
    f"Page (of {pages:,})", min_value=1, max_value=pages, step=1, key="page",
    on_change=grid_changed(ui.url_state("page", 1, options=range(1, pages + 1), cast=int)))
shown = browse.page_of(indices, page, per_page)

# --- the grid: a click on a tile (or Enter on it) selects it ---------------------------
# The image chosen below is settled first, so the grid can mark it.
choices = [int(index) for index in shown]
linked = ui.query_value("index", None, cast=int)  # A shared link may name any image.
if linked is not None and 0 <= linked < len(images) and linked not in choices:
    choices.insert(0, linked)
index_changed = ui.url_state("index", choices[0], options=choices, cast=int)


@st.cache_resource(max_entries=32, show_spinner=False)
def grid_tiles(source, split, shown):
    """The tiles of the images ``shown`` (a tuple of indices) of a split, made once per
    grid, not again when the detail view below changes. ``source`` keys the dataset.
    Sessions share the list; it is only read."""
    images, labels = data.split(split)
    captions = [f"{names[labels[index]]} #{index}" for index in shown]
    return tile_grid.tiles(images[list(shown)], shown, captions)


def tile_clicked(index):
    st.session_state.index = index
    ui.set_query(index=index)


# Charts and code need large browser libraries (Plotly.js, a highlighter): they come once
# this tab has drawn a grid, so that loading them does not hold the first grid back.
grid_drawn = tile_grid.tile_grid(grid_tiles(data.source, split, tuple(shown.tolist())), columns,
                                 key="grid_tiles", on_select=tile_clicked,
                                 selected=st.session_state.get("index"),
                                 label=f"Grid of CIFAR-10 images, page {page} of {pages}")
st.caption(f"{len(indices):,} {split} images match; page {page} of {pages}. "
           "Click an image (or Tab to it and press Enter) to look closer.")

# --- one image, down to its pixels -----------------------------------------------------
st.header("Look closer at one image")
choice = st.selectbox(
    "Image", choices, key="index", format_func=lambda i: f"#{i} · {names[labels[i]]}",
    on_change=index_changed)
image = images[choice]
region_size = 6
left, middle, right = st.columns([2, 3, 3])
row = middle.slider("Region top row", 0, 32 - region_size, 12, key="row")
column = middle.slider("Region left column", 0, 32 - region_size, 12, key="col")
channel = middle.radio("Channel", pictures.CHANNEL_NAMES, horizontal=True, key="channel")
left.image(pictures.outline(pictures.upscale(image, 8), row * 8, column * 8, region_size * 8,
                            width=2),
           caption=f"#{choice}: {names[labels[choice]]} (8x, yellow box = region)",
           alt=f"{split} image {choice}, a {names[labels[choice]]}, enlarged 8 times",
           output_format="PNG")
right.image(pictures.mosaic(pictures.channel_images(image), 3, gap=4, scale=4),
            caption="The three colour channels the network receives: red, green, blue",
            alt=f"The red, green and blue channels of {split} image {choice} in grey",
            output_format="PNG")

block = image[row:row + region_size, column:column + region_size,
              pictures.CHANNEL_NAMES.index(channel)]
if grid_drawn:
    stored, scaled = st.columns(2)
    # Figures are built once per server (shared_cache): a class looks at the same image.
    stored.plotly_chart(shared_cache.figure(
        plots.pixel_values_figure, block, top=row, left=column,
        title=f"Stored {channel} values: uint8, 0-255"), key="stored")
    scaled.plotly_chart(shared_cache.figure(
        plots.pixel_values_figure, browse.normalise(block), top=row, left=column, decimals=2,
        title="What the model sees: value / 255.0, 0.0-1.0"), key="scaled")
    st.code(f"x_{split}[{choice}].shape   # {image.shape}: height, width, channels\n"
            f"x_{split}[{choice}].dtype   # {image.dtype}, values {image.min()} to {image.max()}\n"
            f"x = x_{split}[{choice}] / 255.0   # float, {image.min() / 255:.3f} to "
            f"{image.max() / 255:.3f}",
            language="python")
    st.plotly_chart(shared_cache.figure(plots.histogram_figure, image), key="histogram")

# --- what augmentation does (TensorFlow only once asked for) ---------------------------
augmentation_panel.augmentation_section(image, f"{split} image {choice}, a {names[labels[choice]]}")

# --- class statistics -------------------------------------------------------------------
st.header("Images per class")
if grid_drawn:
    counts = browse.class_counts(data.y_train, data.y_test, names)
    st.plotly_chart(shared_cache.figure(plots.class_counts_figure, counts), key="counts")
