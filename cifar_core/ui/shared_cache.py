"""What many tabs draw alike, made once per server: PNG bytes of pictures, Plotly figures.

A class follows the teacher, so 30 tabs rerun the same page on the same image, model and
cell within seconds of each other. Building a Plotly figure (30-200 ms: Plotly validates
every property) and encoding a picture as PNG (1-20 ms) again for each tab is the server's
main repeated work (bench/bench_classroom.py). Here both are cached server-wide, keyed by
the exact content of their inputs: NumPy arrays by a digest of all their bytes (Streamlit's
own hashing samples arrays of 500,000 elements or more, so two mosaics that differ in a few
pixels could share a key), everything else by its value.

Cached figures are shared, so callers must not change them: ``st.plotly_chart`` sends a
copy (projector mode too), which is all pages do with them.
"""

import collections
import hashlib
import sys
import threading

import numpy as np
import streamlit as st

#: At most this many figures and PNGs are kept (least recently used go first), and at most
#: this many bytes of PNG (a Layers mosaic is 50-500 KB, a gallery tile 3 KB).
FIGURES_KEPT = 256
PICTURES_KEPT = 4096
PICTURE_BYTES_KEPT = 128 * 1024 * 1024


def content_key(*values):
    """A digest of ``values``: arrays by shape, dtype and every byte; str, numbers, bool,
    None and tuples/lists/dicts of them by value, pandas tables by their names and
    values. TypeError for anything else (a figure
    keyed on an object whose content we cannot read would be shared wrongly)."""
    digest = hashlib.blake2b(digest_size=20)
    # A pandas table exists only once pandas is imported: do not import it (0.2 s) to ask.
    pd = sys.modules.get("pandas")

    def add(value):
        if isinstance(value, np.ndarray):
            array = np.ascontiguousarray(value)
            digest.update(f"array{array.shape}{array.dtype.str}".encode())
            digest.update(array.view(np.uint8).reshape(-1) if array.size else b"")
        elif pd is not None and isinstance(value, (pd.DataFrame, pd.Series)):
            columns = list(value.columns) if isinstance(value, pd.DataFrame) else value.name
            add((type(value).__name__, str(columns), value.index.name))
            add(pd.util.hash_pandas_object(value, index=True).to_numpy())
        elif isinstance(value, np.generic):
            add(value.item())
        elif value is None or isinstance(value, (str, int, float, bool)):
            digest.update(f"{type(value).__name__}:{value!r};".encode())
        elif isinstance(value, (tuple, list)):
            digest.update(f"{type(value).__name__}[{len(value)}".encode())
            for item in value:
                add(item)
            digest.update(b"]")
        elif isinstance(value, dict):
            digest.update(f"dict{{{len(value)}".encode())
            for key in sorted(value, key=repr):
                add(key)
                add(value[key])
            digest.update(b"}")
        else:
            raise TypeError(f"cannot key a shared result on a {type(value).__name__}: "
                            f"{value!r:.80}")

    for value in values:
        add(value)
    return digest.hexdigest()


@st.cache_resource(max_entries=FIGURES_KEPT, show_spinner=False)
def _figure(key, _builder, _args, _kwargs):
    return _builder(*_args, **_kwargs)


def figure(builder, *args, **kwargs):
    """``builder(*args, **kwargs)``, a Plotly figure, built once per server for the same
    builder and argument contents. Do not change the figure returned: it is shared."""
    name = f"{builder.__module__}.{builder.__qualname__}"
    return _figure(content_key(name, args, kwargs), builder, args, kwargs)


class _PngCache:
    """PNG bytes by picture content, least recently used dropped first, bounded in count
    and bytes. A plain dict, not st.cache_resource: a gallery asks for 24 small tiles per
    rerun, and that decorator's bookkeeping per call costs more than the lookup itself."""

    def __init__(self, kept, bytes_kept):
        self.kept, self.bytes_kept = kept, bytes_kept
        self.entries = collections.OrderedDict()  # content key -> PNG bytes
        self.size = 0  # bytes held
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            encoded = self.entries.get(key)
            if encoded is not None:
                self.entries.move_to_end(key)
            return encoded

    def put(self, key, encoded):
        with self.lock:
            if key not in self.entries:
                self.entries[key] = encoded
                self.size += len(encoded)
            while len(self.entries) > self.kept or self.size > self.bytes_kept:
                _, dropped = self.entries.popitem(last=False)
                self.size -= len(dropped)


_PNGS = _PngCache(PICTURES_KEPT, PICTURE_BYTES_KEPT)


def png(picture):
    """The RGB (or grey) uint8 ``picture`` as PNG bytes, encoded once per server."""
    from cifar_core.display import pictures  # Pillow only for pages that draw

    picture = np.asarray(picture, dtype=np.uint8)
    key = content_key(picture)
    encoded = _PNGS.get(key)
    if encoded is None:
        encoded = pictures.png_bytes(picture)  # outside the lock: tabs encode in parallel
        _PNGS.put(key, encoded)
    return encoded
