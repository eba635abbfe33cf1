"""Arrays and numbers turned into what a page shows; no I/O, no Streamlit, no TensorFlow.

- ``pictures``: NumPy pictures: mosaics, upscaling, colour maps, outlines, overlays, PNG bytes.
- ``plots``: Plotly figures: charts, heat maps, the clickable image grid.
- ``text``: durations as a teacher reads them aloud.
"""
