"""A clickable grid of small images: one button per tile; a click or Enter selects one.

Why not a Plotly figure: the Dataset grid is the first thing its page shows, and a Plotly
chart makes the browser fetch and parse Plotly.js (4.7 MB) before a single tile appears;
start-up then took 2.7 times a hello-world app. This is a Streamlit components v2
component instead: a few lines of inline HTML, CSS and JavaScript (no build step, nothing
fetched from anywhere), mounted in the page's own DOM in a shadow root.

Each tile is a native ``<button>`` whose text is its caption ("cat #123"), so it is
reachable with Tab, named for screen readers, and Enter or Space select it like a click.
Its picture is the image's own 32 x 32 PNG as a data URI (about 2 KB), drawn
``scale`` times larger with nearest-neighbour pixels by the browser: 64 tiles send about
190 KB, less than the 3x mosaic the figure sent. Tiles grow with projector mode's zoom
and shrink to fit a narrow column. The selected tile is marked (a thick frame, bold
caption, ``aria-current``); the keyboard focus has its own ring.

The component reports a click as a one-shot trigger, so clicking the tile already
selected (after the selection moved elsewhere through another widget) still counts.

Swapping the figure alone is not enough: the same script run sends the charts further
down, the browser fetches Plotly.js for them at once, and evaluating it blocks the page
for 0.4-1 s on these 2-core machines, often just before the grid would have been drawn.
So the component also reports, once per browser tab, that its pictures are decoded and
painted (``drawn()``); a page holds back what needs large browser libraries (Plotly
charts, ``st.code``'s highlighter) until then, at the cost of one more script run.
"""

import streamlit as st

from cifar_core.display import pictures

#: The trigger the browser sets to the clicked tile's ``index``.
EVENT = "clicked"
#: The trigger the browser sets once the grid's pictures are decoded and painted, and the
#: session key where that is remembered for the tab (across page switches).
DRAWN_EVENT = "drawn"
DRAWN = "tile_grid_drawn"

_HTML = '<div class="tile-grid" role="group"></div>'

_CSS = """
.tile-grid {
  --tile: calc(var(--tile-pixels, 96px) * var(--projector-zoom, 1));
  display: grid;
  grid-template-columns: repeat(var(--columns, 8), minmax(0, var(--tile)));
  gap: 4px;
  font-family: var(--st-font, sans-serif);
  color: var(--st-text-color, #31333f);
}
.tile {
  all: unset;
  box-sizing: border-box;
  display: flex;
  flex-direction: column;
  min-width: 0;
  cursor: pointer;
  border-radius: 2px;
}
.tile img {
  display: block;
  width: 100%;
  height: auto;
  aspect-ratio: 1;
  image-rendering: pixelated;
}
.tile span {
  padding: 1px 2px 2px;
  font-size: 0.8rem;
  line-height: 1.2;
  overflow-wrap: anywhere;  /* "automobile #41234" in a narrow tile: the number goes below */
}
.tile:hover img { filter: brightness(1.12); }
.tile[aria-current="true"] {
  box-shadow: 0 0 0 4px var(--st-primary-color, #ff4b4b);
  position: relative;
}
.tile[aria-current="true"] span { font-weight: 700; }
.tile:focus-visible {
  outline: 3px solid var(--st-text-color, #31333f);
  outline-offset: 6px;
  position: relative;
  z-index: 1;
}
"""

_JS = """
function mark(grid, selected) {
  for (const tile of grid.children) {
    if (Number(tile.dataset.index) === selected) tile.setAttribute("aria-current", "true");
    else tile.removeAttribute("aria-current");
  }
}

export default function ({ data, parentElement, setTriggerValue }) {
  const grid = parentElement.querySelector(".tile-grid");
  const signature = data.tiles.map((tile) => tile.index).join(",");
  // Streamlit calls this again on every rerun: rebuild only a different grid, so the
  // focused tile keeps the focus after Enter.
  if (grid.dataset.signature !== signature) {
    grid.replaceChildren(...data.tiles.map((tile) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "tile";
      button.dataset.index = tile.index;
      const image = document.createElement("img");
      image.src = tile.src;
      image.alt = "";  // the button's text names the tile
      image.width = image.height = tile.size;
      const caption = document.createElement("span");
      caption.textContent = tile.caption;
      button.append(image, caption);
      return button;
    }));
    grid.dataset.signature = signature;
  }
  grid.setAttribute("aria-label", data.label);
  grid.style.setProperty("--columns", data.columns);
  grid.style.setProperty("--tile-pixels", `${data.tile_pixels}px`);
  mark(grid, data.selected);
  if (data.report_drawn && !grid.dataset.reported) {
    grid.dataset.reported = "yes";
    // Decoded, then one frame later painted: only then may the page send the rest.
    const images = [...grid.querySelectorAll("img")];
    Promise.all(images.map((image) => image.decode().catch(() => null))).then(() =>
      requestAnimationFrame(() => setTimeout(() => setTriggerValue("drawn", true))));
  }
  grid.onclick = (event) => {
    const tile = event.target.closest(".tile");
    if (!tile) return;
    const index = Number(tile.dataset.index);
    mark(grid, index);  // at once, before the rerun confirms it
    setTriggerValue("clicked", index);
  };
}
"""

_component = st.components.v2.component("tile_grid", html=_HTML, css=_CSS, js=_JS)


def tiles(images, indices, captions):
    """The tiles of ``images`` (N, H, W, 3) uint8, JSON-ready for ``tile_grid``: one dict
    per image with its ``index`` (what a click reports), ``caption`` and ``src`` (a PNG
    data URI of the image at its own size)."""
    if not len(images) == len(indices) == len(captions):
        raise ValueError(f"{len(images)} images, {len(indices)} indices and "
                         f"{len(captions)} captions: one of each per tile")
    return [{"index": int(index), "caption": str(caption), "size": int(image.shape[1]),
             "src": pictures.png_data_uri(image)}
            for image, index, caption in zip(images, indices, captions, strict=True)]


def drawn():
    """Whether this browser tab has drawn a tile grid (pictures decoded and painted)."""
    return st.session_state.get(DRAWN, False)


def _mark_drawn():
    st.session_state[DRAWN] = True


def tile_grid(tile_list, columns, *, key, on_select, selected=None, label="Grid of images",
              scale=3):
    """Show ``tile_list`` (from ``tiles``) ``columns`` to a row, each ``scale`` times its
    size; the tile whose index is ``selected`` is marked. Returns ``drawn()``.

    A click (or Enter/Space) on a tile calls ``on_select(index)`` before the rerun, like a
    widget's ``on_change``; an index that is not one of the tiles is ignored.
    """
    shown = {tile["index"] for tile in tile_list}

    def clicked():
        index = st.session_state[key].get(EVENT)
        if type(index) is int and index in shown:  # not a bool, float or text
            on_select(index)

    pixels = scale * max((tile["size"] for tile in tile_list), default=32)
    # The tiles go as a tuple: Streamlit looks for data frames among a dict's values and
    # imports pandas and pyarrow to check a list (0.3 s of the page's first run), not a tuple.
    _component(key=key, data={"tiles": tuple(tile_list), "columns": int(columns), "label": label,
                              "selected": selected, "tile_pixels": pixels,
                              "report_drawn": not drawn()},
               **{f"on_{EVENT}_change": clicked, f"on_{DRAWN_EVENT}_change": _mark_drawn})
    return drawn()
