"""The Lessons page in a real browser: step on by keyboard and by button, follow a step's
"Open this view" into the Layers page, and come back to the same step.

The app runs with the shipped models and the real dataset (the Layers page needs it).
"""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.browser import AXE_CORE, axe_violations, wait_for_script

#: The first visit to the Layers page imports TensorFlow and loads the seed model: slower
#: than other waits on a busy 2-core machine.
LAYERS_TIMEOUT = 180_000


#: Streamlit arms a button's keyboard shortcut a moment after the script has finished and
#: the button is drawn, with no sign of it in the page: here a key pressed at once was lost
#: in 3 of 3 tries, one pressed 0.5 s later worked in 8 of 8. Three times that margin.
SHORTCUT_ARMING_MS = 1_500


def step_heading(page, number, title):
    return page.get_by_role("heading", name=f"Step {number} of 7: {title}")


def press(page, key):
    """Press ``key`` as a teacher would on the shown step: once its shortcuts are armed."""
    wait_for_script(page)
    expect(page.get_by_role("button", name=re.compile(r"^Previous"))).to_be_visible()
    page.wait_for_timeout(SHORTCUT_ARMING_MS)
    page.locator("body").press(key)


def test_step_through_a_lesson_and_open_its_view(app_url, page):
    page.goto(f"{app_url}/lessons?lesson=convolution&step=1")
    expect(step_heading(page, 1, "The picture goes in, a class comes out")).to_be_visible()
    wait_for_script(page)

    # The Right arrow key is the Next button's shortcut.
    press(page, "ArrowRight")
    expect(step_heading(page, 2, "One convolution by hand")).to_be_visible()
    wait_for_script(page)
    assert re.search(r"[?&]step=2(&|$)", page.url) and "lesson=convolution" in page.url

    # The Next button itself.
    page.get_by_role("button", name=re.compile(r"^Next")).click()
    expect(step_heading(page, 3, "At the edge: zero padding")).to_be_visible()
    wait_for_script(page)
    assert re.search(r"[?&]step=3(&|$)", page.url)

    # Left goes back one step, and Right forward again.
    press(page, "ArrowLeft")
    expect(step_heading(page, 2, "One convolution by hand")).to_be_visible()
    wait_for_script(page)
    press(page, "ArrowRight")
    expect(step_heading(page, 3, "At the edge: zero padding")).to_be_visible()
    wait_for_script(page)

    # A fresh tab on the same address shows the same step: a class can follow along.
    other = page.context.new_page()
    other.goto(page.url)
    expect(step_heading(other, 3, "At the edge: zero padding")).to_be_visible()
    other.close()

    # "Open this view": the Layers page on test image 7, conv1, the patch at row 0, column 0.
    page.get_by_role("link", name="Open this view").click()
    page.get_by_text("The model's own activation at row 0, column 0, filter 0").wait_for(
        timeout=LAYERS_TIMEOUT)
    wait_for_script(page, timeout=LAYERS_TIMEOUT)
    assert "/layers?" in page.url and re.search(r"[?&]index=7(&|$)", page.url)
    expect(page.get_by_text(re.compile(r"^test #7: \w+\. Each tile shows"))).to_be_visible()
    expect(page.get_by_text("All 32 feature maps of conv1")).to_be_visible()
    expect(page.get_by_text("black = zero padding")).to_be_visible()
    expect(page.get_by_label("Model", exact=True)).to_have_value(re.compile(r"^seed"))

    # The menu's Lessons entry returns to the lesson's step (this tab's position is kept).
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Lessons").click()
    expect(step_heading(page, 3, "At the edge: zero padding")).to_be_visible()
    wait_for_script(page)
    assert re.search(r"[?&]step=3(&|$)", page.url) and "lesson=convolution" in page.url


def test_the_lessons_page_has_no_serious_accessibility_violation(app_url, page):
    if not AXE_CORE.exists():
        pytest.skip(f"axe-core not found at {AXE_CORE} (npm install axe-core, see .ci/run)")
    page.goto(f"{app_url}/lessons?lesson=mistakes&step=1")
    expect(page.get_by_role("heading", name="Step 1 of 8: How good is it?")).to_be_visible()
    page.get_by_text("All steps of this lesson").click()  # its step buttons are checked too
    expect(page.get_by_role("button", name="8. Two models, compared")).to_be_visible()
    wait_for_script(page)
    violations = axe_violations(page)
    assert not violations, "\n".join(f"{rule}: {text}: {nodes}" for rule, text, nodes in violations)
