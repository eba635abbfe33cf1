"""The seconds-long steps of bringing a model in, as background tasks for the Models page.

Importing a file loads it, scores its input scalings on test images and measures its test
accuracy; choosing another scaling measures the accuracy again. Each runs as a
``background.Task`` (the page polls its progress; its thread never touches Streamlit).
No TensorFlow here until a task runs.
"""

from pathlib import Path

from cifar_core import background
from cifar_core.models import model_uploads


def import_task(path, name=None, *, dataset=None, models_directory=None, original_name=None):
    """A Task importing the saved upload at ``path`` into the catalogue (``importing``).

    Its result is the new ``catalog.ModelEntry``; a refused file fails the task with the
    importer's ``ModelError``, whose message names the file (``original_name``, the name
    the user chose) and the reason. The saved upload is removed once the import ends,
    whatever the outcome. ``dataset`` (a ``Cifar10`` or None) is what the input scaling
    is inferred from; without it the importer assumes 0-1 inputs.
    """
    path = Path(path)

    def work(progress):
        from cifar_core.models import importing  # TensorFlow is imported here, in the task.

        try:
            progress("importing", 0, 1)  # Stop pressed before the import: nothing added
            return importing.import_model(path, name, dataset=dataset,
                                          models_directory=models_directory,
                                          original_name=original_name or path.name)
        finally:
            model_uploads.discard_upload(path)

    return background.Task(work, 1, f"import {path.name}")


def scaling_task(entry, scaling, *, dataset=None):
    """A Task storing ``scaling`` as the imported ``entry``'s input scaling; its result is
    the updated ``ModelEntry`` (with the test accuracy measured again when ``dataset``).

    The user's file stays untouched: caches of results computed from the model (loaded
    models, peak activations, evaluations) are keyed by the card's scaling as well.
    """
    def work(progress):
        from cifar_core.models import importing

        progress("rescaling", 0, 1)
        return importing.set_scaling(entry, scaling, dataset=dataset)

    return background.Task(work, 1, f"scaling {entry.key}")
