"""Views: parsing a link into the app, and every way a link can miss the view it names."""

import pytest

from cifar_core.teaching import views
from tests.unit.teaching.conftest import conv, write_keras


@pytest.mark.parametrize("text, page, parameters", [
    ("layers?model=seed&split=test&index=7&layer=conv3", "layers",
     (("model", "seed"), ("split", "test"), ("index", "7"), ("layer", "conv3"))),
    ("/evaluate?true=3&predicted=5", "evaluate", (("true", "3"), ("predicted", "5"))),
    ("  home  ", "home", ()),
    ("dataset?classes=", "dataset", (("classes", ""),)),
    ("classify?heat=Grad-CAM", "classify", (("heat", "Grad-CAM"),)),
])
def test_parse_view(text, page, parameters):
    view = views.parse_view(text)
    assert (view.page, view.parameters) == (page, parameters)


def test_a_view_link_round_trips():
    view = views.parse_view("layers?model=seed&split=test&index=7&layer=conv3")
    assert view.link == "layers?model=seed&split=test&index=7&layer=conv3"
    assert views.parse_view(view.link) == view
    assert view.query == {"model": "seed", "split": "test", "index": "7", "layer": "conv3"}
    assert views.View("home").link == "home"


@pytest.mark.parametrize("text, message", [
    ("", "a view must be a link"),
    ("   ", "a view must be a link"),
    ("http://localhost:8501/layers?index=7", "is a web address"),
    ("//example.org/layers", "is a web address"),
    ("layers?index=7#top", "has a '#' part"),
    ("?index=7", "does not start with a page name"),
    ("pages/layers?index=7", "does not start with a page name"),
    ("layers?index=7&index=8", "gives index more than once"),
])
def test_parse_view_rejects_what_is_not_a_link_into_the_app(text, message):
    with pytest.raises(ValueError, match=message) as raised:
        views.parse_view(text)
    if text.strip():
        assert repr(text) in str(raised.value)  # the message names the link


@pytest.mark.parametrize("link", [
    "home",
    "lessons?lesson=pixels&step=3",
    "dataset?split=train&classes=3,5&grid=10&seed=42&page=50&index=49999",
    "dataset?split=test&classes=3&grid=10&page=10",
    "dataset?index=49999",  # the Dataset page shows the train split by default
    "layers?model=seed&split=test&index=7&layer=conv3&filter=63",
    "layers?model=seed&split=train&index=49999&layer=conv6&filter=127",
    "layers?model=seed&row=31&col=0&step_filter=31",
    "layers?model=fast&layer=conv7&row=30",  # fast's conv1 is 2 x 2 'valid': 31 x 31
    "layers?index=9999&layer=conv6",  # no model named: the Layers page shows seed
    "train?preset=demo&runs=20261129-071527-tiny-392d&job=abc",
    "classify?model=seed&compare=true&model2=fast&square=pad&k=10&heat=Saliency"
    "&explain=truck&camera=false",
    "evaluate?model=seed&compare=fast&true=0&predicted=9",
    "layers?model=seed&layer=conv3&present=1",
])
def test_links_to_existing_views_have_no_problem(link, shipped_facts):
    assert views.check_view(views.parse_view(link), shipped_facts) == []


@pytest.mark.parametrize("link, reason", [
    ("layer?index=7",
     "no page 'layer'; the app's pages are: home, lessons, models, dataset, layers"),
    ("layers?layr=conv3", "the Layers page has no parameter 'layr' (it takes: model, split"),
    ("home?index=3", "the Home page has no parameter 'index' (it takes: none)"),
    ("layers?model=resnet", "no model 'resnet'; the app offers: fast, seed"),
    ("layers?split=validation", "split 'validation' is not one of: train, test"),
    ("layers?split=test&index=10000", "test image index 10000 is out of range 0-9999"),
    ("layers?index=10000", "test image index 10000 is out of range 0-9999"),
    ("dataset?index=50000", "train image index 50000 is out of range 0-49999"),
    ("layers?index=-1", "test image index -1 is out of range 0-9999"),
    ("layers?index=seven", "test image index 'seven' is not a whole number"),
    ("layers?model=seed&layer=conv7", "model 'seed' has no layer 'conv7'; its conv layers: "
                                      "conv1, conv2, conv3, conv4, conv5, conv6"),
    ("layers?model=seed&layer=pool1", "layer 'pool1' of model 'seed' is a MaxPooling2D; the "
                                      "Layers page shows conv layers only"),
    ("layers?model=seed&layer=conv3&filter=64",
     "filter 64 is out of range 0-63 (conv3 has 64 filters)"),
    ("layers?model=seed&filter=32", "filter 32 is out of range 0-31 (conv1 has 32 filters)"),
    ("layers?model=seed&step_filter=40",
     "step_filter 40 is out of range 0-31 (conv1 has 32 filters)"),
    ("layers?model=seed&row=32", "row of conv1's output 32 is out of range 0-31"),
    ("layers?model=fast&col=31", "column of conv1's output 31 is out of range 0-30"),
    ("dataset?classes=3,10", "class number 10 is out of range 0-9"),
    ("dataset?grid=7", "grid size '7' is not one of: 4, 6, 8, 10"),
    ("dataset?classes=3&grid=10&page=51", "page 51 is out of range 1-50"),
    ("dataset?split=test&page=158", "page 158 is out of range 1-157"),  # 10,000 / 64
    ("dataset?seed=-5", "shuffle seed -5 is out of range"),
    ("train?preset=resnet", "recipe 'resnet' is not one of: seed-notebook, fast"),
    ("classify?heat=gradcam", "heat map 'gradcam' is not one of: Grad-CAM, Saliency"),
    ("classify?explain=cats", "explain 'cats' is not one of: top, airplane"),
    ("classify?k=11", "k 11 is out of range 1-10"),
    ("classify?compare=yes", "compare 'yes' is not one of: true, false"),
    ("evaluate?model=seed&compare=seed", "compare 'seed' is the page's own model"),
    ("evaluate?compare=fast", "compare 'fast' is the page's own model"),  # fast is first
    ("evaluate?true=10", "true class 10 is out of range 0-9"),
    ("lessons?step=0", "step 0 is out of range 1-999"),
    ("layers?present=yes", "present 'yes' is not one of: 0, 1"),
])
def test_every_kind_of_bad_link_gets_its_reason(link, reason, shipped_facts):
    reasons = views.check_view(views.parse_view(link), shipped_facts)
    assert len(reasons) == 1 and reasons[0].startswith(reason), reasons


def test_several_problems_in_one_link_are_all_reported(shipped_facts):
    reasons = views.check_view(
        views.parse_view("layers?model=seed&split=test&index=12345&layer=conv9&colour=red"),
        shipped_facts)
    assert [reason.split(" ")[0] for reason in reasons] == ["test", "model", "the"]


def test_a_bad_model_is_reported_once_not_again_for_its_layer(shipped_facts):
    reasons = views.check_view(views.parse_view("layers?model=nope&layer=conv3&filter=2"),
                               shipped_facts)
    assert reasons == ["no model 'nope'; the app offers: fast, seed"]


def test_an_unreadable_model_file_means_the_layer_cannot_be_checked(tmp_path):
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    facts = views.AppFacts({"broken": broken})
    reasons = views.check_view(
        views.parse_view("layers?model=broken&layer=conv3&filter=2&row=3"), facts)
    assert len(reasons) == 1  # said once, not for each of layer, filter and row
    assert reasons[0].startswith("cannot check the layer settings against model 'broken': ")
    assert "broken.keras is not a readable .keras file" in reasons[0]
    # A link that names no layer setting does not need the file.
    assert views.check_view(views.parse_view("layers?model=broken&index=3"), facts) == []


def test_without_any_model_layers_cannot_be_checked():
    facts = views.AppFacts({})
    assert views.check_view(views.parse_view("layers?layer=conv1"), facts) == [
        "no model is available to check the layer settings against"]
    assert views.check_view(views.parse_view("evaluate?model=seed"), facts) == [
        "no model 'seed'; the app offers: none (train one on the Train page)"]


def test_the_layers_page_default_model_is_seed_where_it_exists(tmp_path):
    small = write_keras(tmp_path / "small.keras")  # conv1 and conv2
    seed = write_keras(tmp_path / "seed.keras", [conv("conv1", 4), conv("conv6", 4)])
    link = views.parse_view("layers?layer=conv6")
    # The page's model chooser starts on seed where it exists, though it is not first...
    assert views.check_view(link, views.AppFacts({"small": small, "seed": seed})) == []
    # ...and on the first model otherwise.
    reasons = views.check_view(link, views.AppFacts({"small": small}))
    assert reasons[0].startswith("model 'small' has no layer 'conv6'")


def test_the_layers_page_checks_seed_when_the_link_names_no_model(shipped_facts):
    assert list(shipped_facts.models)[0] == "fast"  # seed is not first, yet it is the default
    reasons = views.check_view(views.parse_view("layers?layer=conv7"), shipped_facts)
    assert reasons[0].startswith("model 'seed' has no layer 'conv7'")


def test_app_facts_list_finished_runs_too(tmp_path):
    import json

    models_directory, run = tmp_path / "models", tmp_path / "runs" / "run-1"
    models_directory.mkdir()
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"model": "tiny"}))
    (run / "status.json").write_text(json.dumps({"state": "finished"}))
    write_keras(run / "model.keras")
    facts = views.app_facts(models_directory, tmp_path / "runs")
    assert list(facts.models) == ["run-1"]
    assert views.check_view(views.parse_view("layers?model=run-1&layer=conv2"), facts) == []


@pytest.mark.parametrize("link, words", [
    ("layers?model=seed&split=test&index=7&layer=conv3",
     "Layers: model seed, test image 7, layer conv3"),
    ("layers?index=7", "Layers: test image 7"),
    ("dataset?index=7", "Dataset: train image 7"),
    ("dataset?split=train&classes=3,5&grid=10", "Dataset: train split, classes cat, dog, "
                                                "10 x 10 grid"),
    ("layers?row=0&col=3&step_filter=2", "Layers: convolution at row 0, column 3, with conv1 "
                                         "filter 2"),
    ("evaluate?model=seed&true=3&predicted=5", "Evaluate: model seed, cat taken for dog"),
    ("evaluate?true=3&predicted=3", "Evaluate: cat recognised as cat"),
    ("classify?model=seed&compare=true&model2=fast&heat=Grad-CAM",
     "Classify: model seed, compared with fast, Grad-CAM"),
    ("train?preset=demo&present=1", "Train: recipe demo"),
    ("home", "Home"),
    ("evaluate?true=3", "Evaluate: true class cat"),
    ("nowhere?x=1&true=99", "nowhere: x 1, true class 99"),
])
def test_describe_view_says_the_view_in_words(link, words):
    assert views.describe_view(views.parse_view(link)) == words
