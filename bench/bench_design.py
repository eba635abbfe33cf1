"""Designer benchmark: the live layer table against building the Keras model it describes.

The Train page's "Design a network" redraws its table on every edit. Targets:
- the plain-Python table (``design.analyse``) of each template: 5 ms or less, with its
  ratio to the same-run baseline, building the Keras model and reading its summary
  (what the table would cost if it asked Keras);
- one designer edit (the section's script time on a rerun): under 300 ms.

    python bench/bench_design.py [--repeats 20] [--no-page]
"""

import argparse
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from bench.timing import median_ms, timed_reruns  # noqa: E402
from cifar_core.display import design_diagram  # noqa: E402
from cifar_core.models import design, design_templates  # noqa: E402

TARGETS_MS = {"table": 5.0, "edit": 300.0}


def table_and_diagram(definition):
    """What the designer computes on an edit: the table and the diagram's DOT text."""
    analysis = design.analyse(definition)
    return design_diagram.design_dot(analysis.rows)


def keras_summary(definition):
    """The baseline: build the Keras model and read each layer's shape and parameters."""
    from cifar_core.backend import keras
    from cifar_core.models import designed

    model = designed.build_designed(definition)
    rows = [(layer.name, tuple(layer.output.shape), layer.count_params())
            for layer in model.layers]
    keras.backend.clear_session()  # a benchmark only: the app never clears the session
    return rows


def bench_tables(repeats):
    print("live layer table (plain Python) vs building the Keras model:")
    for name in design_templates.TEMPLATE_NAMES:
        definition = design_templates.template(name)
        ours = median_ms(lambda: table_and_diagram(definition), repeats)
        keras_ms = median_ms(lambda: keras_summary(definition), max(3, repeats // 4), warmup=1)
        verdict = "meets" if ours <= TARGETS_MS["table"] else "MISSES"
        print(f"  {name:10s} table + diagram {ours:7.3f} ms (target {TARGETS_MS['table']} ms: "
              f"{verdict}, {ours / TARGETS_MS['table']:.2f}x)   Keras build {keras_ms:8.1f} ms  "
              f"-> {keras_ms / ours:,.0f}x faster")


#: The designer section alone, as the Train page draws it (the page's other sections, the
#: run history and its charts, are bench_training's and do not rerun differently here).
DESIGNER_PAGE = """
import streamlit as st
from cifar_core.ui import design_panel
st.title("Train a CNN")
st.header("Design a network")
design_panel.design_section()
"""


def bench_page(repeats):
    import tempfile

    def change(app, turn):
        first = app.session_state["design_blocks"][0]["id"]
        app.number_input(key=f"design_{first}_filters").set_value(8 + turn % 8)

    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "designer.py"
        page.write_text(DESIGNER_PAGE)
        script, cpu, round_trip = timed_reruns(page, {}, change, repeats)
    verdict = "meets" if script <= TARGETS_MS["edit"] else "MISSES"
    print(f"one designer edit (the Train page's designer section): script {script:.0f} ms "
          f"(CPU {cpu:.0f} ms), AppTest round trip {round_trip:.0f} ms; target "
          f"{TARGETS_MS['edit']:.0f} ms: {verdict} ({script / TARGETS_MS['edit']:.2f}x)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--no-page", action="store_true", help="skip the Train page rerun")
    arguments = parser.parse_args()
    bench_tables(arguments.repeats)
    if not arguments.no_page:
        bench_page(arguments.repeats)


if __name__ == "__main__":
    main()
