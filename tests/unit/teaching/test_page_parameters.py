"""The table of pages and parameters that links are checked against, checked against the code.

A page that renames a URL parameter, or a new page in app.py, must show up here: otherwise
lessons would be checked against parameters the pages no longer read.
"""

import re

import pytest

from cifar_core.storage import PROJECT_ROOT
from cifar_core.teaching import page_parameters

PAGES_DIR = PROJECT_ROOT / "pages"
UI_DIR = PROJECT_ROOT / "cifar_core" / "ui"


def page_source(name):
    """A page's code, with the code of the ``cifar_core.ui`` modules it imports by name
    (the Layers page's image picker keeps ``split`` and ``index`` in the URL)."""
    source = (PAGES_DIR / f"{name}.py").read_text()
    for module in re.findall(r"^from cifar_core\.ui import (.+)$", source, re.MULTILINE):
        for part in module.split(","):
            path = UI_DIR / f"{part.strip()}.py"
            if path.exists():
                source += path.read_text()
    return source


def url_keys(source):
    """Every query parameter the code keeps in the URL: ``url_state("key"``,
    ``url_flag("key"``, ``url_number(label, "key"``, ``query_value("key"``,
    ``set_query(key=...)`` and the model pickers (``key="model"`` unless another is given)."""
    keys = set(re.findall(r"url_(?:state|flag)\(\s*\"(\w+)\"", source))
    keys |= set(re.findall(r"url_number\(\s*f?\"[^\"]*\"\s*,\s*\"(\w+)\"", source))
    keys |= set(re.findall(r"query_value\(\s*\"(\w+)\"", source))
    for arguments in re.findall(r"set_query\(([^)]*)\)", source):
        keys |= set(re.findall(r"(\w+)\s*=", arguments))
    for arguments in re.findall(r"model_picker\(([^)]*)\)", source):
        named = re.search(r"key=\"(\w+)\"", arguments)
        keys.add(named.group(1) if named else "model")
    return keys


def test_the_table_lists_exactly_the_pages_of_app_py():
    navigation = re.findall(r"st\.Page\(\s*\"pages/(\w+)\.py\"", (PROJECT_ROOT / "app.py")
                            .read_text())
    assert "lessons" in navigation and navigation.index("lessons") == 1  # right after Home
    assert sorted(page_parameters.PAGES) == sorted(navigation), (
        "app.py's pages and cifar_core/teaching/page_parameters.PAGES differ: add the page "
        "and the query parameters it reads to PAGES")


@pytest.mark.parametrize("name", sorted(page_parameters.PAGES))
def test_each_page_reads_exactly_the_parameters_in_the_table(name):
    assert url_keys(page_source(name)) == set(page_parameters.PAGES[name].parameters)


def test_the_reader_finds_keys_in_each_form():
    source = ('ui.url_state("grid", 8)\nui.url_number("Filter", "filter", 3)\n'
              'ui.query_value("job", None)\nui.set_query(seed=1, page=2)\n'
              'ui.model_picker("Second", key="model2")\nui.model_picker(default="seed")\n')
    assert url_keys(source) == {"grid", "filter", "job", "seed", "page", "model2", "model"}


@pytest.mark.parametrize("name", ["dataset", "layers"])
def test_default_splits_are_the_pages_own(name):
    defaults = re.findall(r"url_state\(\s*\"split\"\s*,\s*\"(\w+)\"", page_source(name))
    assert defaults == [page_parameters.PAGES[name].default_split]


def test_the_layers_page_starts_on_the_model_the_table_says():
    defaults = re.findall(r"model_picker\([^)]*default=\"(\w+)\"", page_source("layers"))
    assert defaults == [page_parameters.PAGES["layers"].default_model]


def test_the_classify_choices_are_the_pages_own():
    source = page_source("classify")
    for option in page_parameters.HEAT_MAPS + ("top",):
        assert f'"{option}"' in source, option


def test_projector_mode_keeps_its_parameter_under_the_name_in_the_table():
    source = (UI_DIR / "projector.py").read_text()
    assert [f'PARAMETER = "{name}"' in source for name in page_parameters.GLOBAL_PARAMETERS] \
        == [True]
