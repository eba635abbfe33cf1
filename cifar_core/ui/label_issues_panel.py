"""The Evaluate page's "Which labels look wrong?": confident learning's suspects as a gallery.

The section works from the evaluation's test-set probabilities the page already has, so it
costs no pass through the model: cleanlab's ranking takes about 20 ms, but importing it
takes 1-2 s the first time, so it runs as a background task shared by every tab (its
progress, Stop and Try again drawn by ``task_panel``) while the rest of the page is there.
"""

import streamlit as st

from cifar_core.inspect import label_issues
from cifar_core.ui import image_gallery, task_panel
from cifar_core.ui.url_state import url_state

#: Above this share of the test set flagged, the list is mostly the model's own mistakes
#: (the shipped seed model, 72% accurate, flags 16%; fast, 91%, flags 1.6%).
CONVINCING_SHARE = 0.05
ALL = -1  # "Labelled as": any class


def label_issues_section(images, labels, names, probabilities, model_key):
    """Header, explanation, how many labels look wrong, and the gallery of the worst.

    ``images`` uint8 (N, 32, 32, 3) and ``labels`` int (N,) are the test set,
    ``probabilities`` float (N, C) the model ``model_key``'s answers for it.
    """
    st.header("Which labels look wrong?")
    st.caption(
        "People labelled CIFAR-10 by hand, and a few of its test labels are wrong. Here the "
        "model may be right and the label wrong: these are the test images whose label the "
        "model most confidently disagrees with, found by **confident learning** "
        "([cleanlab](https://github.com/cleanlab/cleanlab)). It counts, class by class, how "
        "many images the model confidently puts in another class than their label, flags "
        "that many, and ranks them by how little probability the model gives their label. "
        "This is fair on the test images because no model trained on them: a model's "
        "answers on its own training images repeat the labels it memorised, wrong or not.")
    task = task_panel.server_tasks().start(
        label_issues.task_key(labels, probabilities),
        lambda: label_issues.label_issues_task(labels, probabilities))
    issues = task_panel.task_result(
        task, progress_text="Finding the labels that look wrong",
        failure_text="The labels could not be ranked.", retry_key=f"label_issues_{model_key}",
        unit="steps")
    if issues is None:
        return  # Progress, a failure or a stop is shown; the rest of the page stands.
    st.markdown(f"**{len(issues):,}** of {issues.total:,} test labels ({issues.fraction:.1%}) "
                "look wrong to this model, the most suspicious first.")
    classes = list(range(len(names)))
    chooser, pairs = st.columns([1, 3], vertical_alignment="bottom")
    labelled = chooser.selectbox(
        "Labelled as", [ALL] + classes, key="labelled",
        format_func=lambda value: "any class" if value == ALL else names[value],
        on_change=url_state("labelled", ALL, options=[ALL] + classes, cast=int,
                            to_text=lambda value: None if value == ALL else value))
    common = issues.most_common_pairs()
    if common:
        pairs.markdown("Most often: " + "; ".join(
            f"labelled **{names[label]}**, the model says **{names[answer]}** ({images:,})"
            for label, answer, images in common) + ".")
    st.caption("Look before you believe it: many of these are the model's own mistakes, "
               "the more so the less accurate it is. Some show an animal or vehicle that "
               "really is what the model says; others are ambiguous, or two objects at once. "
               "The first are often among the worst mistakes above too: what confident "
               "learning adds is how many labels to doubt, class by class. "
               "Click an image to see what the model's layers made of it.")
    if issues.fraction > CONVINCING_SHARE:
        st.info(f"This model flags {issues.fraction:.0%} of the test set: most of these are its "
                "own mistakes, not wrong labels. A more accurate model flags fewer images, and "
                "more of them are really mislabelled.")

    position = {int(index): number for number, index in enumerate(issues.indices)}

    def caption(index):
        number = position[int(index)]
        return (f"label {names[labels[index]]} · model {names[issues.predictions[number]]} "
                f"{issues.confidences[number]:.0%}")

    def alt(index):
        number = position[int(index)]
        return (f"Test image {index}, labelled {names[labels[index]]}; the model says "
                f"{names[issues.predictions[number]]} with {issues.confidences[number]:.0%} "
                "confidence")

    shown = issues.indices[issues.positions_labelled(None if labelled == ALL else labelled)]
    image_gallery.gallery(images, labels, names, shown, probabilities, model_key,
                          "The model does not confidently disagree with any of these labels.",
                          caption=caption, alt=alt)
