"""Showing NumPy pictures (mosaics, feature maps, filters) on a page, pixel for pixel."""


def show_picture(container, picture, caption):
    """One NumPy picture as a lossless PNG: st.image's "auto" would send JPEG, which
    smears the one-pixel gaps and colours of mosaics and filters."""
    from cifar_core.display import (
        pictures,  # Pillow is imported by the pages that draw, not at start-up.
    )

    container.image(pictures.png_bytes(picture), caption=caption, output_format="PNG")
