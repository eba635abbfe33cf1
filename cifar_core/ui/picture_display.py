"""Showing NumPy pictures (mosaics, feature maps, filters) on a page, pixel for pixel."""


def show_picture(container, picture, caption, *, alt=None):
    """One NumPy picture as a lossless PNG: st.image's "auto" would send JPEG, which
    smears the one-pixel gaps and colours of mosaics and filters.

    ``alt`` says what the picture shows for a screen reader (which image, which layer, how
    many tiles); where the caption already says all that, it serves as the alt text.
    """
    from cifar_core.ui import shared_cache

    # Encoded once per server: a class looking at the same view shares the bytes.
    container.image(shared_cache.png(picture), caption=caption, output_format="PNG",
                    alt=alt or caption)
