"""Lessons: a teacher walks the class through the app, one step and one live view at a time.

Lessons are Markdown files in ``lessons/`` (or ``$CIFAR_LESSONS_DIR``); the lesson and the
step are in the URL (``/lessons?lesson=pixels&step=3``). Needs neither the dataset nor a
model: links are checked against the model files' configs, without TensorFlow.
"""

import streamlit as st

from cifar_core import ui
from cifar_core.teaching import lessons
from cifar_core.ui import lesson_panel

ui.use_app_navigation()
st.title("Lessons")

folder = lessons.lessons_dir()
library = lessons.load_lessons(folder)
lesson_panel.problems_report(library.problems, folder)
if not library.lessons:
    st.info(f"No lesson to show yet. Add lesson files (Markdown) to `{folder}`; the "
            "project's lessons/README.md says how to write one.", icon=":material/school:")
    st.stop()

lesson_panel.resume(library)  # back from a live view through the menu: the same step
lesson = lesson_panel.lesson_picker(library)
step_number = lesson_panel.current_step(lesson)
lesson_panel.show_step(lesson, step_number, library.problems_of(lesson))
