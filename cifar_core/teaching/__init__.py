"""Teaching with the app: lessons that walk a class through its pages, step by step.

- ``lessons``: lesson files (Markdown with a front matter block), their steps, the lessons
  folder (``lessons/`` or ``$CIFAR_LESSONS_DIR``), and every problem found in them.
- ``views``: deep links into the pages (``layers?model=seed&index=7&layer=conv3``) and
  whether a link opens the view it names, checked against the app's models.
- ``page_parameters``: the app's pages and the query parameters each reads, a check each.
- ``model_files``: a ``.keras`` file's layers read from its ``config.json``, so a link's
  layer is checked without TensorFlow.

Nothing here imports Streamlit or TensorFlow (a test checks): the Lessons page answers at
once, without the dataset or a model loaded; ``cifar_core.ui.lesson_panel`` draws it.
"""

from cifar_core.teaching.lessons import (
    Lesson,
    LessonError,
    LessonLibrary,
    Problem,
    Step,
    lessons_dir,
    load_lessons,
)
from cifar_core.teaching.model_files import ModelFileError, read_layers
from cifar_core.teaching.views import AppFacts, View, app_facts, check_view, parse_view

__all__ = ["AppFacts", "Lesson", "LessonError", "LessonLibrary", "ModelFileError", "Problem",
           "Step", "View", "app_facts", "check_view", "lessons_dir", "load_lessons",
           "parse_view", "read_layers"]
