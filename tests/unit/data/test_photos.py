"""Decoder and preprocessing tests on generated files: every format, odd modes, bad files."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cifar_core.data import photos

RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def encode(image, format, **options):
    """The bytes of ``image`` saved in ``format``."""
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def halves(size=(64, 48), left=RED, right=BLUE):
    """An RGB image whose left half is ``left`` and right half ``right``."""
    pixels = np.zeros((size[1], size[0], 3), dtype=np.uint8)  # (H, W, 3)
    pixels[:, : size[0] // 2] = left
    pixels[:, size[0] // 2:] = right
    return Image.fromarray(pixels)


def png_chunk(kind, payload):
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def raw_png(width, height, bit_depth, color_type, rows):
    """A PNG built by hand (Pillow cannot write 16-bit RGB); ``rows`` are filtered rows."""
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header)
            + png_chunk(b"IDAT", zlib.compress(rows)) + png_chunk(b"IEND", b""))


def png_16bit_rgb():
    """4x2 16-bit RGB: every pixel (65535, 32896, 0), i.e. 8-bit (255, 128, 0)."""
    row = b"\x00" + struct.pack(">HHH", 65535, 32896, 0) * 4  # filter byte 0, then pixels
    return raw_png(4, 2, 16, 2, row * 2)


def png_header_only(width, height):
    """A PNG that declares width x height pixels but holds almost no data."""
    return raw_png(width, height, 8, 2, b"\x00" * 4)


def png_16bit_gray():
    pixels = np.full((6, 8), 65535, dtype=np.uint16)
    pixels[:, 4:] = 32896  # 32896 / 257 = 128
    return encode(Image.fromarray(pixels), "PNG")  # uint16 -> mode I;16


def palette_with_transparency():
    """8x8 palette image: index 0 transparent (left half), index 1 blue (right half)."""
    image = Image.new("P", (8, 8), 0)
    image.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (4, 0, 8, 8))
    return encode(image, "PNG", transparency=0)


def rgba_half_transparent():
    """Left half fully transparent red, right half opaque blue."""
    image = Image.new("RGBA", (8, 8), (255, 0, 0, 0))
    image.paste((0, 0, 255, 255), (4, 0, 8, 8))
    return encode(image, "PNG")


def exif_rotated_jpeg():
    """60x40 stored, red on the left; EXIF orientation 6 means 'rotate 90 degrees clockwise'."""
    exif = Image.Exif()
    exif[0x0112] = 6
    return encode(halves((60, 40)), "JPEG", quality=95, exif=exif.tobytes())


def multi_picture_jpeg():
    """An MPO file (a JPEG with a second picture, as some phones save): red, then blue."""
    frames = [halves(left=RED, right=RED), halves(left=BLUE, right=BLUE)]
    return encode(frames[0], "MPO", save_all=True, append_images=frames[1:])


def animated_gif():
    frames = [Image.new("RGB", (10, 10), RED), Image.new("RGB", (10, 10), BLUE)]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


# name, bytes, expected (width, height), expected colour at the left-centre and right-centre
GOOD_FILES = [
    ("photo.png", lambda: encode(halves(), "PNG"), (64, 48), RED, BLUE),
    ("photo.jpg", lambda: encode(halves(), "JPEG", quality=95), (64, 48), RED, BLUE),
    ("photo.bmp", lambda: encode(halves(), "BMP"), (64, 48), RED, BLUE),
    ("photo.gif", lambda: encode(halves(), "GIF"), (64, 48), RED, BLUE),
    ("photo.webp", lambda: encode(halves(), "WEBP", lossless=True), (64, 48), RED, BLUE),
    ("gray.png", lambda: encode(halves().convert("L"), "PNG"), (64, 48), (76, 76, 76),
     (29, 29, 29)),
    ("bilevel.bmp", lambda: encode(halves(right=WHITE).convert("1"), "BMP"), (64, 48), (0, 0, 0),
     WHITE),
    ("cmyk.jpg", lambda: encode(halves().convert("CMYK"), "JPEG", quality=95), (64, 48), RED, BLUE),
    ("deep.png", png_16bit_rgb, (4, 2), (255, 128, 0), (255, 128, 0)),
    ("deep-gray.png", png_16bit_gray, (8, 6), WHITE, (128, 128, 128)),
    ("palette.png", palette_with_transparency, (8, 8), WHITE, BLUE),
    ("alpha.png", rgba_half_transparent, (8, 8), WHITE, BLUE),
    ("gray-alpha.png", lambda: encode(Image.new("LA", (8, 8), (0, 0)), "PNG"), (8, 8), WHITE,
     WHITE),
    ("rotated.jpg", exif_rotated_jpeg, (40, 60), None, None),
    ("animated.gif", animated_gif, (10, 10), RED, RED),
    ("phone.jpg", multi_picture_jpeg, (64, 48), RED, RED),
    ("named-wrong.png", lambda: encode(halves(), "JPEG", quality=95), (64, 48), RED, BLUE),
]


@pytest.mark.parametrize("name, make, size, left, right", GOOD_FILES,
                         ids=[case[0] for case in GOOD_FILES])
def test_good_files_decode_to_rgb(name, make, size, left, right):
    image = photos.decode_image(make(), name)
    assert image.mode == "RGB"
    assert image.size == size
    pixels = np.asarray(image, dtype=int)  # (H, W, 3)
    middle = size[1] // 2
    if left is not None:
        np.testing.assert_allclose(pixels[middle, 0], left, atol=8)
        np.testing.assert_allclose(pixels[middle, -1], right, atol=8)


def test_exif_orientation_is_applied():
    # Stored red-left/blue-right, rotated 90 degrees clockwise: red ends up on top.
    pixels = np.asarray(photos.decode_image(exif_rotated_jpeg(), "rotated.jpg"), dtype=int)
    np.testing.assert_allclose(pixels[0, 20], RED, atol=10)
    np.testing.assert_allclose(pixels[-1, 20], BLUE, atol=10)


BAD_FILES = [
    ("empty.png", lambda: b"", "empty"),
    ("notes.png", lambda: b"this is a text file, not a picture\n" * 10, "not a PNG, JPEG"),
    ("half.png", lambda: encode(halves((200, 200)), "PNG")[:300], "truncated or corrupt"),
    ("half.jpg", lambda: encode(halves((200, 200)), "JPEG")[:400], "truncated or corrupt"),
    ("scan.tiff", lambda: encode(halves(), "TIFF"), "not a PNG, JPEG"),
    ("wide.png", lambda: png_header_only(8000, 6000), "limit is 40,000,000 pixels"),
    ("bomb.png", lambda: png_header_only(100_000, 100_000), "too large"),
    ("zero.png", lambda: png_header_only(0, 10), "PNG"),
]


@pytest.mark.parametrize("name, make, message", BAD_FILES, ids=[case[0] for case in BAD_FILES])
def test_bad_files_raise_image_error_naming_the_file(name, make, message):
    with pytest.raises(photos.ImageError, match=message) as caught:
        photos.decode_image(make(), name)
    assert str(caught.value).startswith(name)
    assert isinstance(caught.value, ValueError)


def test_non_bytes_argument_is_a_type_error():
    with pytest.raises(TypeError):
        photos.decode_image("photo.png", "photo.png")


@pytest.mark.parametrize("format", ["JPEG", "PNG"])
def test_max_side_shrinks_big_photos(format):
    data = encode(halves((1200, 800)), format)
    image = photos.decode_image(data, "big", max_side=256)
    assert max(image.size) == 256
    assert image.size[0] > image.size[1]


@pytest.mark.parametrize("max_side", [0, 10, 2.5])
def test_bad_max_side_is_a_value_error(max_side):
    with pytest.raises(ValueError, match="max_side"):
        photos.decode_image(encode(halves(), "PNG"), "photo.png", max_side=max_side)


def test_crop_keeps_the_centre_and_pad_keeps_everything():
    image = halves((64, 32))  # red left half, blue right half
    cropped = photos.make_square(image, "crop")
    padded = photos.make_square(image, "pad")
    assert cropped.size == (32, 32) and padded.size == (64, 64)
    # The centre crop straddles the boundary: red then blue.
    assert cropped.getpixel((0, 16)) == RED and cropped.getpixel((31, 16)) == BLUE
    # Padding uses the border's mean colour, between red and blue.
    top = padded.getpixel((32, 0))
    assert top[0] > 0 and top[2] > 0 and top[1] == 0
    assert padded.getpixel((0, 32)) == RED


@pytest.mark.parametrize("mode", photos.SQUARE_MODES)
def test_preprocess_gives_the_model_input_and_every_step(mode):
    steps = photos.preprocess(halves((300, 200)), mode)
    assert steps.model_input.shape == (32, 32, 3) and steps.model_input.dtype == np.uint8
    assert steps.square.size[0] == steps.square.size[1]
    assert steps.original.size == (300, 200)
    np.testing.assert_array_equal(photos.to_model_input(halves((300, 200)), mode),
                                  steps.model_input)


def test_a_32x32_image_is_passed_through_unchanged():
    pixels = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    np.testing.assert_array_equal(photos.to_model_input(Image.fromarray(pixels)), pixels)


@pytest.mark.parametrize("mode", ["stretch", "", None])
def test_unknown_square_mode_is_a_value_error(mode):
    with pytest.raises(ValueError, match="mode"):
        photos.make_square(halves(), mode)


def test_non_rgb_image_is_a_value_error():
    with pytest.raises(ValueError, match="RGB"):
        photos.to_model_input(Image.new("L", (40, 40)))


@pytest.mark.parametrize("size, mode, box", [
    ((64, 32), "crop", (16, 0, 32)),
    ((32, 64), "crop", (0, 16, 32)),
    ((64, 32), "pad", (0, -16, 64)),
    ((40, 40), "pad", (0, 0, 40)),
])
def test_square_box(size, mode, box):
    assert photos.square_box(size, mode) == box


def test_map_to_original_marks_cropped_away_pixels_as_nan():
    heat = np.ones((32, 32), dtype=np.float32)
    spread = photos.map_to_original(heat, (64, 32), "crop")  # width 64, height 32
    assert spread.shape == (32, 64)
    assert np.isnan(spread[:, :16]).all() and np.isnan(spread[:, 48:]).all()
    np.testing.assert_allclose(spread[:, 16:48], 1.0)


def test_map_to_original_drops_the_padding():
    heat = np.zeros((2, 2), dtype=np.float32)
    heat[0] = 1.0  # the top half of the square is padding for a wide image
    spread = photos.map_to_original(heat, (60, 20), "pad")  # square 60, image rows 20..39
    assert spread.shape == (20, 60) and not np.isnan(spread).any()
    assert spread[0].mean() > spread[-1].mean()


def test_prepare_uploads_keeps_going_past_bad_files():
    files = [("good.png", encode(halves(), "PNG")), ("bad.png", b"nope"),
             ("empty.jpg", b""), ("good.jpg", encode(halves(), "JPEG"))]
    uploads, errors = photos.prepare_uploads(files, "pad")
    assert [upload.name for upload in uploads] == ["good.png", "good.jpg"]
    assert [str(error).split(":")[0] for error in errors] == ["bad.png", "empty.jpg"]
    assert uploads[0].steps.model_input.shape == (32, 32, 3)
    assert uploads[0].data == files[0][1]
