"""Views: deep links into the app's pages, and whether a link opens the view it names.

A view is a page with its URL state, written as in the address bar without the host:
``layers?model=seed&split=test&index=7&layer=conv3``. Every page keeps its widgets in the
query string, and a page quietly falls back to a default for a value it cannot use (a
shared link with a typo must not crash a classroom). That is right for a page, but a
lesson whose link falls back shows the class the wrong picture without a word, so
``check_view`` says what a link gets wrong before anyone follows it: an unknown page or
parameter, a model the app does not offer, an image index out of range, a layer the model
lacks. It reads only small files (the model catalogue, each ``.keras`` file's config) and
needs neither the dataset nor TensorFlow.
"""

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

from cifar_core.data import CLASS_NAMES
from cifar_core.models import catalog
from cifar_core.teaching import page_parameters

#: Images per split: the loader insists on CIFAR-10's counts, so links are checked against
#: them without loading the dataset. Every class has a tenth of each split.
SPLIT_SIZES = {"train": 50_000, "test": 10_000}

@dataclass(frozen=True)
class View:
    """One page of the app with the query parameters that set its widgets."""

    page: str
    parameters: tuple[tuple[str, str], ...] = ()

    @property
    def query(self):
        """The parameters as a dict, e.g. {"model": "seed", "index": "7"}."""
        return dict(self.parameters)

    @property
    def link(self):
        """The view as a link relative to the app, e.g. ``layers?model=seed&index=7``."""
        return self.page + (f"?{urlencode(self.parameters)}" if self.parameters else "")


@dataclass(frozen=True)
class AppFacts:
    """What links are checked against: the models the app offers and the split sizes.

    ``models`` maps each model key to its ``.keras`` file in the order the model choosers
    list them, so the first is what a page shows when a link names no model.
    """

    models: dict[str, Path]
    split_sizes: dict[str, int] = field(default_factory=lambda: dict(SPLIT_SIZES))

    @property
    def default_model(self):
        return next(iter(self.models), None)


def app_facts(models_directory=None, runs_directory=None):
    """The facts of the running app: every model in the catalogue (shipped and runs)."""
    entries = catalog.available_models(models_directory, runs_directory)
    return AppFacts({entry.key: entry.path for entry in entries})


def parse_view(text):
    """The ``View`` that a link such as ``layers?model=seed&index=7`` names.

    Raises ValueError naming ``text`` when it is not a link into the app: empty, a web
    address with a host, a fragment, a page name with a slash, a parameter given twice.
    Whether the page and its values exist is ``check_view``'s question.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a view must be a link such as 'layers?index=7', not {text!r}")
    parts = urlsplit(text.strip())
    if parts.scheme or parts.netloc:
        raise ValueError(f"{text!r} is a web address; write the page and its parameters "
                         "only, e.g. 'layers?model=seed&index=7'")
    if parts.fragment:
        raise ValueError(f"{text!r} has a '#' part, which no page reads")
    page = parts.path.strip("/")
    if not page or "/" in page:
        raise ValueError(f"{text!r} does not start with a page name such as 'layers'")
    pairs = tuple(parse_qsl(parts.query, keep_blank_values=True))
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"{text!r} gives {', '.join(repeated)} more than once")
    return View(page, pairs)


def check_view(view, facts):
    """Why ``view`` would not open the view it names: a list of reasons, empty if it would."""
    spec = page_parameters.PAGES.get(view.page)
    if spec is None:
        pages = ", ".join(page_parameters.PAGES)
        return [f"no page {view.page!r}; the app's pages are: {pages}"]
    link, reasons = page_parameters.CheckedLink(view, facts), []
    for name, value in view.parameters:
        check = spec.parameters.get(name) or page_parameters.GLOBAL_PARAMETERS.get(name)
        if check is None:
            takes = ", ".join(spec.parameters) or "none"
            reasons.append(f"the {spec.title} page has no parameter {name!r} (it takes: {takes})")
        elif reason := check(value, link):
            reasons.append(reason)
    if link.unreadable and page_parameters.LAYER_PARAMETERS & set(link.query):
        reasons.append(link.unreadable)
    return reasons


def _class_name(number):
    """"3" -> "cat"; anything else as written (describing never fails)."""
    try:
        return CLASS_NAMES[int(number)]
    except (ValueError, IndexError):
        return number


def _cell_words(true, predicted):
    """A confusion matrix cell in words, as the Evaluate page says it."""
    verb = "recognised as" if true == predicted else "taken for"
    return f"{_class_name(true)} {verb} {_class_name(predicted)}"


#: How ``describe_view`` words a parameter: name -> function(value, query) -> words, or None
#: to leave it out (said together with another parameter).
_WORDS = {
    "split": lambda value, query: None if "index" in query else f"{value} split",
    "index": lambda value, query: f"{query.get('split', '')} image {value}".strip(),
    "classes": lambda value, query: "classes " + ", ".join(
        _class_name(number) for number in value.split(",") if number),
    "grid": lambda value, query: f"{value} x {value} grid",
    "row": lambda value, query: f"convolution at row {value}",
    "col": lambda value, query: f"column {value}",
    "step_filter": lambda value, query: f"with conv1 filter {value}",
    "preset": lambda value, query: f"recipe {value}",
    "true": lambda value, query: _cell_words(value, query["predicted"]) if "predicted" in query
    else f"true class {_class_name(value)}",
    "predicted": lambda value, query: None if "true" in query
    else f"predicted {_class_name(value)}",
    "compare": lambda value, query: None if value in ("true", "false")
    else f"compared with {value}",
    "model2": lambda value, query: f"compared with {value}",
    "heat": lambda value, query: value,
    "present": lambda value, query: None,
}


def describe_view(view):
    """The view in words for a link's label, e.g. "Layers: model seed, test image 7, layer
    conv3"; parameters without special wording read "name value"."""
    spec = page_parameters.PAGES.get(view.page)
    query = dict(view.query)
    if spec is not None and spec.default_split and "index" in query:
        query.setdefault("split", spec.default_split)
    parts = []
    for name, value in view.parameters:
        words = _WORDS[name](value, query) if name in _WORDS else f"{name} {value}"
        if words:
            parts.append(words)
    title = spec.title if spec is not None else view.page
    return f"{title}: {', '.join(parts)}" if parts else title
