"""The notebook check: a student's Sequential CNN trained on X / 255 is imported with the
0-1 scaling and reaches here exactly the test accuracy its own notebook computes."""

import numpy as np

from cifar_core import data
from cifar_core.backend import keras
from cifar_core.models import catalog, importing

layers = keras.layers


def notebook_cnn():
    """The seed notebook's CNN, layer for layer, at a fraction of its widths (test speed)."""
    return keras.Sequential([
        keras.Input((32, 32, 3)),
        layers.Conv2D(16, 3, padding="same", activation="relu"), layers.Dropout(0.2),
        layers.Conv2D(16, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.Dropout(0.2),
        layers.Conv2D(32, 3, padding="same", activation="relu"), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dropout(0.2),
        layers.Dense(64, activation="relu", kernel_constraint=keras.constraints.MaxNorm(3)),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])


def test_the_notebook_model_reaches_its_own_accuracy_here(real_cifar_path, tmp_path):
    dataset = data.load_cifar10(real_cifar_path)
    keras.utils.set_random_seed(0)
    model = notebook_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x_train = dataset.x_train[:6000].astype("float32") / 255.0  # as the notebook feeds it
    model.fit(x_train, dataset.y_train[:6000], epochs=2, batch_size=64, verbose=0)
    x_test = dataset.x_test.astype("float32") / 255.0
    _, notebook_accuracy = model.evaluate(x_test, dataset.y_test, verbose=0)
    direct = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1)
                           == dataset.y_test))
    assert abs(direct - notebook_accuracy) < 1e-4 and direct > 0.3  # it learned something
    source = tmp_path / "notebook.h5"
    model.save(source)

    entry = importing.import_model(source, dataset=dataset, models_directory=tmp_path / "m",
                                   evaluate=True)
    card = catalog.model_card(entry)
    assert card["scaling"] == "0-1" and card["output"] == "probabilities"
    assert card["test_accuracy_on"] == "test set (10,000 images)"
    assert card["test_accuracy"] == round(direct, 4)
    assert max(card["scaling_accuracies"], key=card["scaling_accuracies"].get) == "0-1"
