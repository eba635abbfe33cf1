"""Safe decoding of uploaded images and preprocessing to the 32x32 input a model sees.

Uploads are untrusted bytes. Decoding is restricted to a short list of formats, refuses
decompression bombs, truncated and empty files, and turns every odd mode (16-bit,
palette with transparency, alpha, CMYK, grayscale) into plain 8-bit RGB the way a person
would expect to see it. Every failure is an ``ImageError`` naming the file, so a page
can show one message per bad file and still classify the others.

Used by the Classify page (uploads, camera) and the Layers page (an uploaded image).
"""

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

#: Pillow format names we decode; anything else is refused before any decoder runs.
ALLOWED_FORMATS = ("PNG", "JPEG", "BMP", "GIF", "WEBP")

#: File-name extensions for ``st.file_uploader(type=...)`` matching ``ALLOWED_FORMATS``.
UPLOAD_TYPES = ("png", "jpg", "jpeg", "bmp", "gif", "webp")

#: Largest image accepted, in pixels (width x height): about a 40-megapixel photo.
#: A 10 MB PNG of one colour can declare billions of pixels; it is refused from its header.
MAX_PIXELS = 40_000_000

#: The image uploaders' own cap in MB (``st.file_uploader(max_upload_size=...)``); the
#: server's cap, ``.streamlit/config.toml``'s maxUploadSize, is higher for model files.
UPLOAD_LIMIT_MB = 10

#: Largest file accepted, in bytes (the uploaders stop images over UPLOAD_LIMIT_MB first).
MAX_BYTES = 20 * 1024 * 1024

#: Side of the square image the models take.
MODEL_SIZE = 32

#: Longest side kept for display when a page decodes an upload (the model needs 32; pages
#: show photos about 450 px wide). 504 = 4032 / 8: a 12-megapixel phone JPEG decodes at
#: 1/8 scale with no resize after, about 40 ms of CPU here instead of 200 at full size.
DISPLAY_MAX_SIDE = 504

#: Ways to make a photo square before shrinking it: keep the centre, or keep everything.
SQUARE_MODES = ("crop", "pad")


class ImageError(ValueError):
    """An upload that cannot be used as an image; the message names the file and why."""


def decode_image(data, name, *, max_side=None):
    """Decode the bytes of one uploaded file into an 8-bit RGB ``PIL.Image``.

    ``name`` is only used in error messages. With ``max_side`` the result is shrunk so
    that its longer side is at most that many pixels (JPEGs are then decoded at reduced
    scale, which is several times faster for phone photos); the model only needs 32x32.
    Raises ``ImageError`` for anything that is not a usable PNG, JPEG, BMP, GIF or WebP.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"decode_image expects bytes, got {type(data).__name__}")
    if len(data) == 0:
        raise ImageError(f"{name}: the file is empty (0 bytes).")
    if len(data) > MAX_BYTES:
        raise ImageError(f"{name}: the file is {len(data) / 2**20:.1f} MB; "
                         f"the limit is {MAX_BYTES / 2**20:.0f} MB.")
    if max_side is not None and (int(max_side) != max_side or max_side < MODEL_SIZE):
        raise ValueError(f"max_side must be an integer of at least {MODEL_SIZE}, got {max_side!r}")
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that; refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(ALLOWED_FORMATS))
            _check_size(image, name)
            if max_side is not None and image.format in ("JPEG", "MPO"):  # MPO: phone JPEGs
                # Decode at 1/2, 1/4 or 1/8 scale, as small as keeps the long side >= max_side.
                scale = max_side / max(image.size)
                wanted = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
                image.draft("RGB", wanted)
            image.seek(0)  # the first frame of an animated GIF or WebP
            image.load()  # truncated and corrupt files fail here, not later on the page
            image = ImageOps.exif_transpose(image)
            rgb = _to_rgb(image)
    except ImageError:
        raise
    except Image.UnidentifiedImageError:
        raise ImageError(f"{name}: not a PNG, JPEG, BMP, GIF or WebP image.") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name}: the image is too large to decode safely "
                         f"(more than {MAX_PIXELS:,} pixels).") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError) as error:
        # Pillow's decoders report truncated or corrupt data with any of these.
        raise ImageError(f"{name}: the image data is truncated or corrupt ({error}).") from None
    if max_side is not None and max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return rgb


def _check_size(image, name):
    """Refuse an image from its header when it declares too many pixels to decode safely."""
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageError(f"{name}: the image has no pixels ({width}x{height}).")
    if width * height > MAX_PIXELS:
        raise ImageError(f"{name}: the image is {width}x{height} pixels; the limit is "
                         f"{MAX_PIXELS:,} pixels.")


def _to_rgb(image):
    """Convert any decoded mode to 8-bit RGB; transparent parts become white."""
    if image.mode.startswith("I") or image.mode == "F":
        return Image.fromarray(_high_depth_to_uint8(image)).convert("RGB")  # uint8 (H, W) -> L
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")  # the palette's transparent entry becomes alpha
    elif image.mode in ("P", "1", "CMYK", "YCbCr"):
        image = image.convert("RGB")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    return image.convert("RGB")


def _high_depth_to_uint8(image):
    """16-bit (or 32-bit integer / float) grayscale scaled to 0..255 rather than clipped."""
    values = np.asarray(image, dtype=np.float64)
    if image.mode.startswith("I;16") or (image.mode == "I" and values.max(initial=0) > 255):
        values = values / 257.0  # 0..65535 -> 0..255
    elif image.mode == "F" and values.max(initial=0) <= 1.0:
        values = values * 255.0  # floats in 0..1
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class Preprocessed:
    """The steps from a decoded photo to the model input, kept so a page can show each."""

    original: Image.Image  # RGB, any size
    square: Image.Image  # RGB, side = max or min of the original's sides
    model_input: np.ndarray  # uint8 (32, 32, 3), what the model is given


def preprocess(image, mode="crop"):
    """Make ``image`` square (centre ``crop`` or ``pad``), then shrink it to 32x32."""
    square = make_square(image, mode)
    # LANCZOS averages over every source pixel (no aliasing); reducing_gap first box-
    # shrinks big photos by an integer factor, which is much faster and looks the same.
    small = square.resize((MODEL_SIZE, MODEL_SIZE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    model_input = np.asarray(small, dtype=np.uint8)  # (32, 32, 3)
    return Preprocessed(original=image, square=square, model_input=model_input)


@dataclass(frozen=True)
class Upload:
    """One uploaded file that decoded: its name, its bytes and its preprocessing steps."""

    name: str
    data: bytes
    steps: Preprocessed


def prepare_uploads(files, mode="crop", *, max_side=DISPLAY_MAX_SIDE):
    """Decode and preprocess many ``(name, bytes)`` files; a bad file never stops the rest.

    Returns ``(uploads, errors)``: an ``Upload`` per good file and an ``ImageError`` per
    bad one, each in the order given.
    """
    uploads, errors = [], []
    for name, data in files:
        try:
            image = decode_image(data, name, max_side=max_side)
        except ImageError as error:
            errors.append(error)
            continue
        uploads.append(Upload(name=name, data=bytes(data), steps=preprocess(image, mode)))
    return uploads, errors


def to_model_input(image, mode="crop"):
    """The uint8 (32, 32, 3) array a model sees for ``image`` (see ``preprocess``)."""
    return preprocess(image, mode).model_input


def make_square(image, mode="crop"):
    """A square RGB copy of ``image``.

    ``crop`` keeps the centred square (CIFAR-10 photos are centred on their object);
    ``pad`` keeps the whole picture and fills the sides with the mean colour of its
    border, which distracts a CNN less than black bars would.
    """
    if image.mode != "RGB":
        raise ValueError(f"expected an RGB image (use decode_image), got mode {image.mode!r}")
    left, top, side = square_box(image.size, mode)
    if side == image.width == image.height:
        return image.copy()
    if mode == "crop":
        return image.crop((left, top, left + side, top + side))
    canvas = Image.new("RGB", (side, side), border_color(image))
    canvas.paste(image, (-left, -top))
    return canvas


def square_box(size, mode="crop"):
    """(left, top, side): where the square lies in the original's pixel coordinates.

    For ``crop`` the square is inside the image; for ``pad`` it is larger, so left or
    top is negative (the padding lies outside the original).
    """
    if mode not in SQUARE_MODES:
        raise ValueError(f"mode must be one of {SQUARE_MODES}, got {mode!r}")
    width, height = size
    if mode == "crop":
        side = min(width, height)
        return (width - side) // 2, (height - side) // 2, side
    side = max(width, height)
    return -((side - width) // 2), -((side - height) // 2), side


def map_to_original(values, size, mode="crop"):
    """A per-pixel map of the model input (h, w) stretched onto the original image.

    Returns float32 (height, width) for ``size`` = (width, height), resized bilinearly;
    pixels the model never saw (outside a centre crop) are NaN. Used to lay a heat map
    over the uploaded photo rather than over the 32x32 input only.
    """
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2:
        raise ValueError(f"expected a 2-D map, got shape {values.shape}")
    left, top, side = square_box(size, mode)
    width, height = size
    stretched = np.asarray(Image.fromarray(values, mode="F").resize(
        (side, side), Image.Resampling.BILINEAR))  # (side, side)
    result = np.full((height, width), np.nan, dtype=np.float32)
    # The overlap of the square [left, left + side) with the image [0, width), per axis.
    x0, y0 = max(left, 0), max(top, 0)
    x1, y1 = min(left + side, width), min(top + side, height)
    result[y0:y1, x0:x1] = stretched[y0 - top:y1 - top, x0 - left:x1 - left]
    return result


def border_color(image):
    """The mean RGB colour of an image's outermost rows and columns, as an int tuple."""
    pixels = np.asarray(image, dtype=np.float64)  # (H, W, 3)
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])  # (2H+2W, 3)
    return tuple(int(round(value)) for value in border.mean(axis=0))
