"""The Train page's designer in a real browser: add a block, see the message, delete it, upload."""

import json

from playwright.sync_api import expect

from tests.e2e.browser import wait_for_script


def test_design_add_an_impossible_block_delete_it_and_upload_a_design(app_url, page, tmp_path):
    page.goto(f"{app_url}/train?preset=demo&design=true")
    wait_for_script(page)
    expect(page.get_by_text("8 layers, 5,418 parameters (5,418 trainable).")).to_be_visible()

    page.get_by_role("button", name="Add block").click()  # a convolution after global pooling
    message = page.get_by_text("This network cannot be built: block 6 (convolution 32 3x3, "
                               "stride 1, same, relu): needs feature maps, but the features "
                               "are already flat after block 5.")
    expect(message).to_be_visible(timeout=30_000)
    wait_for_script(page)
    page.get_by_role("button", name="Delete").last.click()
    expect(page.get_by_text("8 layers, 5,418 parameters (5,418 trainable).")).to_be_visible(
        timeout=30_000)
    expect(message).to_have_count(0)

    design = {"name": "uploaded", "blocks": [{"type": "flatten"},
                                             {"type": "dense", "units": 4}]}
    path = tmp_path / "uploaded.json"
    path.write_text(json.dumps(design))
    wait_for_script(page)
    page.locator('[data-testid="stFileUploader"]', has_text="Upload a design (JSON)") \
        .locator("input[type=file]").set_input_files(str(path))
    # 3072 * 4 + 4 weights in dense1, 4 * 10 + 10 in the logits
    expect(page.get_by_text("5 layers, 12,342 parameters (12,342 trainable).")).to_be_visible(
        timeout=30_000)
