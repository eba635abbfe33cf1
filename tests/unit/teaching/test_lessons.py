"""Lesson files: front matter, steps, views, every problem reported with file, step, reason;
and the lessons we ship, checked against the models we ship."""

import textwrap

import pytest

from cifar_core.storage import PROJECT_ROOT
from cifar_core.teaching import lessons, views

FRONT = "---\ntitle: Pixels\nlevel: beginner\nduration: 12 min\n---\n"


def lesson_text(body, front=FRONT):
    return front + textwrap.dedent(body)


GOOD = lesson_text("""
    Where pixels come from.

    ## The grid
    View: dataset?split=train&grid=8

    Point at the grid.

    ## One image
    view:   layers?model=seed&split=test&index=7&layer=conv3

    Ask the class **what** it is.
    ### A sub-heading stays in the step

    ## Talk
    No view here: a discussion.
    """)


# --- front matter ----------------------------------------------------------------------
def test_front_matter_fields_and_body():
    fields, body = lessons.parse_front_matter(
        "---\ntitle: Pixels: and values\nlevel: 'beginner'\nduration: 10-15 minutes\n"
        "# a comment\n\nauthor: Ms Lovelace\n---\nThe body\n")
    assert fields == {"title": "Pixels: and values", "level": "beginner",
                      "duration": "10-15 minutes", "author": "Ms Lovelace"}
    assert body == "The body"


@pytest.mark.parametrize("text, message", [
    ("", "no front matter"),
    ("title: Pixels\n---\n", "no front matter"),
    ("---\ntitle: Pixels\nlevel: beginner\nduration: 12 min\n", "not closed"),
    ("---\ntitle: Pixels\nlevel beginner\nduration: 12 min\n---\n",
     "front matter line 3 is not 'key: value': 'level beginner'"),
    ("---\ntitle: Pixels\ntitle: Again\nlevel: x\nduration: 5\n---\n",
     "front matter line 3 gives 'title' a second time"),
    ("---\ntitel: Pixels\nlevel: beginner\nduration: 12 min\n---\n",
     r"the front matter lacks title \(it has: titel, level, duration\)"),
    ("---\ntitle: Pixels\nlevel:\nduration: 12 min\n---\n", "the front matter lacks level"),
    ("---\n---\n", "the front matter lacks title, level, duration$"),
    ("---\ntitle: Pixels\nlevel: beginner\nduration: a quarter of an hour\n---\n",
     "duration 'a quarter of an hour' is not in minutes"),
])
def test_malformed_front_matter_says_what_is_wrong(text, message):
    with pytest.raises(lessons.LessonError, match=message):
        lessons.parse_front_matter(text)


@pytest.mark.parametrize("duration", ["12", "12 min", "12 mins", "10-15 min", "10 – 15 Minutes"])
def test_durations_in_minutes_are_accepted(duration):
    fields, _ = lessons.parse_front_matter(
        f"---\ntitle: T\nlevel: beginner\nduration: {duration}\n---\n")
    assert fields["duration"] == duration


# --- steps -------------------------------------------------------------------------------
def test_split_steps_keeps_introduction_sub_headings_and_code_blocks():
    introduction, steps = lessons.split_steps(textwrap.dedent("""\
        Intro line.
        ## First ##
        text
        ```python
        ## not a step: a comment in code
        ```
        ### part of the first step
        ##Second
        more
        """))
    assert introduction == "Intro line."
    assert [title for title, _ in steps] == ["First", "Second"]
    assert "## not a step: a comment in code" in steps[0][1]
    assert "### part of the first step" in steps[0][1]


def test_parse_lesson_numbers_steps_and_takes_out_their_views(shipped_facts):
    lesson, problems = lessons.parse_lesson(GOOD, "/somewhere/01-pixels.md", shipped_facts)
    assert problems == []
    assert (lesson.key, lesson.title, lesson.level, lesson.duration) == (
        "pixels", "Pixels", "beginner", "12 min")
    assert lesson.introduction == "Where pixels come from."
    assert [(step.number, step.title) for step in lesson.steps] == [
        (1, "The grid"), (2, "One image"), (3, "Talk")]
    assert lesson.steps[0].view == views.View("dataset", (("split", "train"), ("grid", "8")))
    assert lesson.steps[1].view.link == "layers?model=seed&split=test&index=7&layer=conv3"
    assert lesson.steps[1].text == ("Ask the class **what** it is.\n"
                                    "### A sub-heading stays in the step")
    assert "View:" not in lesson.steps[0].text and lesson.steps[2].view is None


def test_a_lesson_without_steps_cannot_be_shown():
    with pytest.raises(lessons.LessonError, match="the lesson has no steps"):
        lessons.parse_lesson(lesson_text("Only an introduction.\n"), "a.md")


@pytest.mark.parametrize("step, link, reason", [
    ("## Bad page\nView: layer?index=7\nText.", "layer?index=7", "no page 'layer'"),
    ("## Bad model\nView: layers?model=resnet\nText.", "layers?model=resnet",
     "no model 'resnet'; the app offers: fast, seed"),
    ("## Bad index\nView: layers?split=test&index=10000\nText.",
     "layers?split=test&index=10000", "test image index 10000 is out of range 0-9999"),
    ("## Bad layer\nView: layers?model=seed&layer=conv9\nText.", "layers?model=seed&layer=conv9",
     "model 'seed' has no layer 'conv9'"),
    ("## Bad parameter\nView: layers?layr=conv3\nText.", "layers?layr=conv3",
     "the Layers page has no parameter 'layr'"),
    ("## Web address\nView: https://example.org/layers\nText.", "",
     "not a view link: 'https://example.org/layers' is a web address"),
    ("## Two views\nView: home\nView: dataset\nText.", "", "the step names 2 views"),
    ("## Silent\nView: home\n", "", "the step has no text for the teacher"),
    ("##\nView: home\nText.", "", "the step has no title after '##'"),
])
def test_every_bad_step_is_reported_with_its_number_and_title(step, link, reason,
                                                              shipped_facts):
    text = lesson_text("## Fine\nView: home\nText.\n\n" + step + "\n")
    lesson, problems = lessons.parse_lesson(text, "05-bad.md", shipped_facts)
    assert len(lesson.steps) == 2  # the lesson is still usable
    assert len(problems) == 1, problems
    problem = problems[0]
    assert (problem.file, problem.step, problem.link) == ("05-bad.md", 2, link)
    assert problem.reason.startswith(reason), problem.reason
    assert problem.step_title == lesson.steps[1].title
    where = "05-bad.md, step 2" + (f" ({problem.step_title})" if problem.step_title else "")
    where += f", link {link!r}" if link else ""
    assert str(problem) == f"{where}: {problem.reason}"


def test_a_link_is_reported_as_the_teacher_wrote_it(shipped_facts):
    _, problems = lessons.parse_lesson(lesson_text("## S\nView:  /layers?model=resnet \nT\n"),
                                       "a.md", shipped_facts)
    assert problems[0].link == "/layers?model=resnet"


def test_a_step_with_a_bad_link_offers_no_view(shipped_facts):
    lesson, _ = lessons.parse_lesson(lesson_text("## S\nView: layers?model=resnet\nText.\n"),
                                     "a.md", shipped_facts)
    assert lesson.steps[0].view is None


def test_without_facts_links_are_parsed_but_not_checked():
    lesson, problems = lessons.parse_lesson(lesson_text("## S\nView: layers?model=resnet\nT\n"),
                                            "a.md")
    assert problems == [] and lesson.steps[0].view.query == {"model": "resnet"}


# --- a folder of lessons -------------------------------------------------------------------
def write(folder, name, text):
    path = folder / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_a_folder_with_bad_files_reports_each_and_keeps_the_others(tmp_path, shipped_facts):
    write(tmp_path, "01-pixels.md", GOOD)
    write(tmp_path, "02-broken.md", "title: no front matter block\n## Step\nText\n")
    write(tmp_path, "03-links.md", lesson_text("## Fine\nView: home\nText.\n\n"
                                               "## Wrong\nView: layers?index=99999\nText.\n"))
    write(tmp_path, "04-pixels.md", GOOD)  # the same key as 01-pixels.md
    write(tmp_path, "05-latin1.md", "---\ntitle: Caf\xe9\n".encode("latin-1"))
    write(tmp_path, "06-empty.md", FRONT)
    write(tmp_path, "07 Bad Name.md", GOOD)
    write(tmp_path, "README.md", "# How to write a lesson\n")  # not a lesson
    write(tmp_path, "notes.txt", "not Markdown")
    library = lessons.load_lessons(tmp_path, shipped_facts)

    assert [lesson.key for lesson in library.lessons] == ["pixels", "links"]
    assert [str(problem) for problem in library.problems] == [
        "02-broken.md: no front matter: the file must start with a '---' line, then title, "
        "level and duration, then another '---' line",
        "03-links.md, step 2 (Wrong), link 'layers?index=99999': test image index 99999 is "
        "out of range 0-9999",
        "04-pixels.md: another lesson already has the key 'pixels'",
        "05-latin1.md: the file is not UTF-8 text",
        "06-empty.md: the lesson has no steps: start each step with a '## Title' line",
        "07 Bad Name.md: its name gives the key '07 bad name'; name lesson files with "
        "lower-case letters, digits and '-', e.g. 05-pooling.md",
    ]
    links = library.get("links")
    assert [problem.step for problem in library.problems_of(links)] == [2]
    assert library.problems_of(library.get("pixels")) == [] and library.get("nope") is None


def test_an_oversized_file_is_not_read(tmp_path, shipped_facts):
    write(tmp_path, "big.md", GOOD + "x" * lessons.MAX_LESSON_BYTES)
    library = lessons.load_lessons(tmp_path, shipped_facts)
    assert library.lessons == ()
    assert library.problems[0].reason == "the file is larger than 256 KB"


def test_a_missing_folder_is_a_problem_not_an_error(tmp_path, shipped_facts):
    library = lessons.load_lessons(tmp_path / "nowhere", shipped_facts)
    assert library.lessons == ()
    assert library.problems[0].reason == "the lessons folder does not exist"


def test_the_folder_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv(lessons.LESSONS_DIR_VARIABLE, raising=False)
    assert lessons.lessons_dir() == PROJECT_ROOT / "lessons"
    monkeypatch.setenv(lessons.LESSONS_DIR_VARIABLE, str(tmp_path))
    assert lessons.lessons_dir() == tmp_path
    write(tmp_path, "9-only.md", GOOD)
    monkeypatch.setenv("CIFAR_MODELS_DIR", str(PROJECT_ROOT / "models"))
    library = lessons.load_lessons()  # the folder and the app's facts from the environment
    assert [lesson.key for lesson in library.lessons] == ["only"] and library.problems == ()


@pytest.mark.parametrize("name, key", [("01-pixels.md", "pixels"), ("pixels.md", "pixels"),
                                       ("2_Layers.md", "layers"), ("10-a-b.md", "a-b")])
def test_lesson_keys_drop_the_order_number(name, key):
    assert lessons.lesson_key(name) == key


# --- the lessons we ship -----------------------------------------------------------------
SHIPPED = {"pixels": "dataset", "convolution": "layers", "training": "train",
           "mistakes": "evaluate"}


@pytest.fixture(scope="module")
def shipped(shipped_facts):
    return lessons.load_lessons(PROJECT_ROOT / "lessons", shipped_facts)


def test_the_shipped_lessons_all_load_without_a_problem(shipped):
    assert [str(problem) for problem in shipped.problems] == []
    assert [lesson.key for lesson in shipped.lessons] == list(SHIPPED)


@pytest.mark.parametrize("key, page", SHIPPED.items())
def test_each_shipped_lesson_fills_a_lesson_slot_with_real_views(shipped, key, page):
    lesson = shipped.get(key)
    assert 5 <= len(lesson.steps) <= 8, "10-15 minutes: 5 to 8 steps"
    assert lesson.level in ("beginner", "intermediate")
    assert lesson.duration in ("12 min", "15 min") and lesson.introduction
    for step in lesson.steps:
        assert step.view is not None, f"{key} step {step.number} has no view"
        assert len(step.text) > 200, f"{key} step {step.number}: too little teaching text"
        assert "**Ask" in step.text and "**Expect:**" in step.text, (key, step.number)
    assert lesson.steps[0].view.page == page  # each lesson starts on its own page


def test_the_convolution_lesson_walks_the_seed_model_through_conv1_to_conv6(shipped):
    steps = shipped.get("convolution").steps
    assert all(step.view.query.get("model") == "seed" for step in steps)
    layers = [step.view.query.get("layer") for step in steps]
    assert {"conv1", "conv3", "conv6"} <= set(layers)
    assert {"row", "col", "step_filter"} <= set(steps[1].view.query)  # the convolution by hand
