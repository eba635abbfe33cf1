"""Projector mode in a real browser at 1024 x 768: a deep link with ``present=1`` shows the
same view with larger text, the sidebar folded and the toolbar gone, and the mode stays on
through a page switch in the sidebar."""

import re

from playwright.sync_api import expect

from tests.e2e.browser import AXE_CORE, axe_violations, wait_for_script

LAYERS_VIEW = "/layers?model=seed&split=test&index=7&layer=conv3"
#: A paragraph of body text on the Layers page (st.markdown, not a caption or a label).
BODY_TEXT = re.compile(r"^Sum of the 27 products")


def open_layers(page, url):
    page.goto(url)
    page.get_by_text("The image flowing through the network").wait_for()
    page.get_by_text(BODY_TEXT).wait_for()
    wait_for_script(page)


def font_size(locator):
    return float(locator.evaluate("element => getComputedStyle(element).fontSize")[:-2])


def test_a_deep_link_in_projector_mode(app_url, page):
    page.set_viewport_size({"width": 1024, "height": 768})
    open_layers(page, app_url + LAYERS_VIEW)
    normal = font_size(page.get_by_text(BODY_TEXT))
    expect(page.get_by_test_id("stMainMenu")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_be_in_viewport()

    open_layers(page, app_url + LAYERS_VIEW + "&present=1")
    # The style arrives with the page's first run; wait until the browser has applied it.
    page.wait_for_function("() => parseFloat(getComputedStyle(document.documentElement)"
                           ".fontSize) > 16", timeout=30_000)
    projected = font_size(page.get_by_text(BODY_TEXT))
    assert projected >= 1.3 * normal, (normal, projected)
    # The same view: test image 7 at conv3 of the seed network.
    expect(page.get_by_text(re.compile(r"^test #7: \w+\. Each tile shows"))).to_be_visible()
    expect(page.get_by_text("All 64 feature maps of conv3")).to_be_visible()
    assert re.search(r"[?&]index=7(&|$)", page.url) and re.search(r"[?&]layer=conv3(&|$)", page.url)
    # No toolbar or menu; the sidebar folded away, with its button to open it again.
    expect(page.get_by_test_id("stMainMenu")).to_be_hidden()
    expect(page.get_by_test_id("stSidebarNav")).not_to_be_in_viewport()
    expect(page.get_by_test_id("stExpandSidebarButton")).to_be_visible()
    if AXE_CORE.exists():  # darker captions and chart text: WCAG AA contrast holds
        violations = axe_violations(page)
        assert not violations, violations

    # Switch page in the sidebar: the mode stays on, and stays in the link.
    page.get_by_test_id("stExpandSidebarButton").click()
    toggle = page.get_by_test_id("stSidebar").get_by_role("switch", name="Projector mode")
    expect(toggle).to_be_checked()
    page.get_by_test_id("stSidebarNav").get_by_text("Dataset").click()
    page.get_by_role("heading", name="The CIFAR-10 dataset").wait_for()
    wait_for_script(page)
    expect(page).to_have_url(re.compile(r"/dataset\?(.*&)?present=1(&|$)"))
    expect(toggle).to_be_checked()
    caption = page.get_by_text(re.compile(r"^50,000 training and 10,000 test images"))
    assert font_size(caption) >= 1.3 * normal * 0.875  # captions are 0.875 of body text

    # The toggle turns it off: Streamlit's sizes and menu are back, present= leaves the link.
    page.get_by_test_id("stSidebar").get_by_text("Projector mode").click()  # as a user does
    expect(page.get_by_test_id("stMainMenu")).to_be_visible()
    wait_for_script(page)
    assert "present=" not in page.url
    assert font_size(caption) < 1.3 * normal * 0.875
