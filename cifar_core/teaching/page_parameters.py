"""The app's pages and the query parameters each reads, with a check for every parameter.

Each page keeps its widgets in the URL (``ui.url_state`` keys); ``PAGES`` lists them, page
by page, with a function that says why a value would not show what it names (a page
quietly falls back to its default for such a value). tests/unit/teaching checks this table
against app.py's navigation and the pages' code, so a renamed parameter cannot go unnoticed.
"""

import math
from dataclasses import dataclass

from cifar_core.data import CLASS_NAMES, browse, photos
from cifar_core.teaching import model_files
from cifar_core.training import augmentation_choices, train_config

#: The Classify page's heat maps and "explain" choices (pages/classify.py defines them).
HEAT_MAPS = ("Grad-CAM", "Saliency", "Occlusion", "SmoothGrad", "Integrated Gradients")
#: The heat maps' own choices (cifar_core/ui/attribution_panel.py defines them).
PATCH_SIZES, STRIDES = ("2", "4", "6", "8", "12", "16"), ("1", "2", "4", "8", "16")
SAMPLE_COUNTS, STEP_COUNTS = ("5", "10", "25", "50", "100"), ("8", "16", "32", "64", "128", "256")
EXPLAIN_CHOICES = ("top",) + CLASS_NAMES
#: How the pages write a toggle in the URL.
FLAGS = ("true", "false")


class CheckedLink:
    """A view (``views.View``) being checked against ``views.AppFacts``, with what its
    checks share: the model it shows and that model's layers, read once."""

    def __init__(self, view, facts):
        self.view, self.facts, self.query = view, facts, view.query
        page_default = PAGES[view.page].default_model
        self.model_key = self.query.get(
            "model", page_default if page_default in facts.models else facts.default_model)
        self.unreadable = None  # why the model's layers cannot be read, if they cannot
        self._layers = None

    @property
    def split(self):
        """The split the page shows: the link's, else the page's default; None if unknown."""
        split = self.query.get("split", PAGES[self.view.page].default_split)
        return split if split in self.facts.split_sizes else None

    @property
    def layers(self):
        """The layers of the view's model; None when they cannot be read (``unreadable``
        says why) or the model is unknown (the model's own check reports that)."""
        if self._layers is None and self.unreadable is None:
            if self.model_key is None:
                self.unreadable = "no model is available to check the layer settings against"
            elif self.model_key in self.facts.models:
                try:
                    self._layers = model_files.read_layers(self.facts.models[self.model_key])
                except model_files.ModelFileError as error:
                    self.unreadable = (f"cannot check the layer settings against model "
                                       f"{self.model_key!r}: {error}")
        return self._layers

    def conv_layer(self, name):
        """The model's conv layer ``name``; None if it has none (or cannot be read)."""
        return next((layer for layer in self.layers or () if layer.is_conv
                     and layer.name == name), None)


# --- the checks: each takes (value, link) and returns a reason, or None if the value is fine --
def _any(value, link):
    return None


def _integer(value, low, high, what):
    """The reason ``value`` is not an integer in low..high (None: it is one)."""
    try:
        number = int(value)
    except ValueError:
        return f"{what} {value!r} is not a whole number"
    if not low <= number <= high:
        return f"{what} {number} is out of range {low}-{high}"
    return None


def _integer_check(low, high, what):
    return lambda value, link: _integer(value, low, high, what)


def _choice(options, what):
    def check(value, link):
        if value not in options:
            return f"{what} {value!r} is not one of: {', '.join(options)}"
        return None
    return check


def _split(value, link):
    return _choice(tuple(link.facts.split_sizes), "split")(value, link)


def _image_index(value, link):
    if link.split is None:
        return None  # The split's own check says what is wrong with it.
    return _integer(value, 0, link.facts.split_sizes[link.split] - 1, f"{link.split} image index")


def _class_list(value, link):
    for part in filter(None, value.split(",")):
        reason = _integer(part, 0, len(CLASS_NAMES) - 1, "class number")
        if reason:
            return reason
    return None


def _grid(value, link):
    return _choice(tuple(map(str, browse.GRID_SIZES)), "grid size")(value, link)


def _grid_page(value, link):
    """The Dataset page's page number, against the pages its split, classes and grid make."""
    classes, grid = link.query.get("classes", ""), link.query.get("grid", "8")
    if link.split is None or _class_list(classes, link) or _grid(grid, link):
        return _integer(value, 1, 2**31, "page")  # Those parameters' own checks report them.
    chosen = len(set(map(int, filter(None, classes.split(","))))) or len(CLASS_NAMES)
    images = link.facts.split_sizes[link.split] * chosen // len(CLASS_NAMES)
    return _integer(value, 1, math.ceil(images / int(grid) ** 2), "page")


def _model(value, link):
    if value not in link.facts.models:
        offered = ", ".join(link.facts.models) or "none (train one on the Train page)"
        return f"no model {value!r}; the app offers: {offered}"
    return None


def _other_model(value, link):
    reason = _model(value, link)
    if reason is None and value == link.model_key:
        return f"compare {value!r} is the page's own model; name another one"
    return reason


def _layer(value, link):
    if link.layers is None or link.conv_layer(value) is not None:
        return None  # Unreadable layers are reported once, by check_view.
    found = next((layer for layer in link.layers if layer.name == value), None)
    conv_names = ", ".join(layer.name for layer in link.layers if layer.is_conv)
    if found is None:
        return f"model {link.model_key!r} has no layer {value!r}; its conv layers: {conv_names}"
    return (f"layer {value!r} of model {link.model_key!r} is a {found.kind}; the Layers page "
            f"shows conv layers only: {conv_names}")


def _filter_of(layer_name, what):
    """A check that the filter number exists in the conv layer ``layer_name(link)``."""
    def check(value, link):
        layer = link.conv_layer(layer_name(link))
        if layer is None or layer.filters is None:
            return None  # A bad layer or an unreadable model is reported elsewhere.
        reason = _integer(value, 0, layer.filters - 1, what)
        return f"{reason} ({layer.name} has {layer.filters} filters)" if reason else None
    return check


def _shown_layer(link):
    """The layer the Layers page shows: the link's, else the model's first conv layer."""
    first = next((layer.name for layer in link.layers or () if layer.is_conv), None)
    return link.query.get("layer", first)


def _first_conv(link):
    """The model's first conv layer's name (the convolution by hand shows it), or None."""
    return next((layer.name for layer in link.layers or () if layer.is_conv), None)


def _conv1_position(what):
    """A check of a row or column of the first conv layer's output (the convolution by hand)."""
    def check(value, link):
        name = _first_conv(link)
        layer = link.conv_layer(name) if name is not None else None
        size = model_files.output_size(layer) if layer is not None else None
        if size is None:
            return None  # An unreadable model is reported once, by check_view.
        return _integer(value, 0, size - 1, f"{what} of {name}'s output")
    return check


#: Parameters whose check reads the model's layers.
LAYER_PARAMETERS = {"layer", "filter", "row", "col", "step_filter"}


@dataclass(frozen=True)
class PageSpec:
    """A page of the app: its title and the query parameters it reads, each with its check."""

    title: str
    parameters: dict
    default_split: str | None = None  # the split the page shows when a link names none
    default_model: str | None = None  # the model it shows first, where the app has it


#: The app's pages by URL name (app.py's navigation) and the parameters their widgets keep
#: in the URL (``ui.url_state`` keys); tests/unit/teaching checks both against the code.
PAGES = {
    "home": PageSpec("Home", {}),
    "lessons": PageSpec("Lessons", {"lesson": _any, "step": _integer_check(1, 999, "step")}),
    "models": PageSpec("Models", {"model": _model}, default_model="seed"),
    "dataset": PageSpec("Dataset", {
        "split": _split, "index": _image_index, "classes": _class_list, "grid": _grid,
        "seed": _integer_check(0, 2**31 - 1, "shuffle seed"), "page": _grid_page,
        "augment": _choice(augmentation_choices.NAMES, "augmentation"),
    }, default_split="train"),
    "layers": PageSpec("Layers", {
        "model": _model, "split": _split, "index": _image_index, "layer": _layer,
        "filter": _filter_of(_shown_layer, "filter"), "row": _conv1_position("row"),
        "col": _conv1_position("column"),
        "step_filter": _filter_of(_first_conv, "step_filter"),
    }, default_split="test", default_model="seed"),
    "train": PageSpec("Train", {"preset": _choice(tuple(train_config.PRESETS), "recipe"),
                                "job": _any, "runs": _any, "design": _choice(FLAGS, "design")}),
    "leaderboard": PageSpec("Class leaderboard", {}),
    "classify": PageSpec("Classify", {
        "model": _model, "model2": _model, "compare": _choice(FLAGS, "compare"),
        "square": _choice(photos.SQUARE_MODES, "square"), "k": _integer_check(1, 10, "k"),
        "heat": _choice(HEAT_MAPS, "heat map"), "explain": _choice(EXPLAIN_CHOICES, "explain"),
        "camera": _choice(FLAGS, "camera"), "patch": _choice(PATCH_SIZES, "patch size"),
        "stride": _choice(STRIDES, "stride"), "samples": _choice(SAMPLE_COUNTS, "samples"),
        "steps": _choice(STEP_COUNTS, "steps"), "sanity": _choice(FLAGS, "sanity"),
    }),
    "evaluate": PageSpec("Evaluate", {
        "model": _model, "compare": _other_model,
        "true": _integer_check(0, len(CLASS_NAMES) - 1, "true class"),
        "predicted": _integer_check(0, len(CLASS_NAMES) - 1, "predicted class"),
        "labelled": _integer_check(0, len(CLASS_NAMES) - 1, "labelled class"),
        # The embedding map (cifar_core/ui/embedding_panel.py): projection and colouring.
        "projection": _choice(("pca", "tsne"), "map"),
        "colour_by": _choice(("true", "predicted"), "colour by"),
    }),
}
#: Parameters every page takes: app.py's projector mode (cifar_core/ui/projector.py).
GLOBAL_PARAMETERS = {"present": _choice(("0", "1"), "present")}
