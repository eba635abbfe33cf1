"""Arrays and numbers turned into what a page shows; no I/O, no Streamlit, no TensorFlow.

- ``pictures``: NumPy pictures: mosaics, upscaling, colour maps, outlines, overlays, PNG bytes
  and data URIs.
- ``plots``: Plotly figures: charts, heat maps.
- ``embedding_map``: the embedding map: WebGL dots per class, mistakes as crosses, clicks to
  image indices.
- ``histogram_plots``: value histograms over a grey baseline and their spread over epochs.
- ``design_diagram``: a designed network as a Graphviz DOT chain of boxes (layer, shape,
  parameters).
- ``sweep_plots``: a sweep's accuracy against its swept values: lines (log x over a decade), a
  line per second field value, or a heat map with the percentages in its cells.
- ``text``: durations as a teacher reads them aloud.
"""
