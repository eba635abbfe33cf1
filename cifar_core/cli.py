"""Command line: ``python -m cifar_core train|evaluate|import ...``.

    python -m cifar_core train --preset fast --epochs 4 [--batch-size N] [--learning-rate F]
        [--train-size N] [--runs-dir DIR] [--save models/fast.keras] [--backend ray] ...
    python -m cifar_core train --resume RUN_ID [--more-epochs N]
    python -m cifar_core evaluate RUN_DIR_OR_MODEL_FILE [--tta [LEVEL]] [--scaling S]
    python -m cifar_core import MODEL_FILE [--name NAME] [--scaling S] [--no-data]

``train`` writes a run folder (see ``runs``), shows one progress line that rewrites
itself, and prints the final test accuracy; ``--save`` also copies the model to a
shipped-model file with its JSON card (the recipe is this very command line). With
``--backend ray`` (the default when ``$CIFAR_RAY_ADDRESS`` is set) the run trains as a Ray
actor (``training.ray_jobs``) on the cluster at ``--ray-address`` or ``$CIFAR_RAY_ADDRESS``,
or on a Ray this command starts for itself, and its files land in the same run folder.
Bad arguments exit with status 2 and one line saying what is wrong; TensorFlow is only
imported once the arguments are valid, so mistakes and ``--help`` (whose choices come from
``train_config`` and ``contract``, not from hand-typed lists) answer at once.
"""

import argparse
import os
import shlex
import sys
import textwrap
from pathlib import Path

from cifar_core import cli_progress
from cifar_core.models import contract
from cifar_core.models.input_scaling import SCALINGS
from cifar_core.training import backends, train_config


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


class _KeepNamesWhole(argparse.RawDescriptionHelpFormatter):
    """Wraps help text between words only: "fast-cosine" stays whole on one line."""

    def _split_lines(self, text, width):
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)


def _one_of(names):
    """``names`` as help text: "a, b or c"."""
    names = list(names)
    return ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]


def build_parser():
    parser = _Parser(prog="python -m cifar_core",
                     description="Train and evaluate CIFAR-10 CNNs from the command line.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    presets = "\n".join(f"  {train_config.describe(name)}" for name in train_config.PRESETS)
    train = commands.add_parser("train", help="train a model into a new run folder",
                                formatter_class=_KeepNamesWhole,
                                epilog=f"presets:\n{presets}")
    train.add_argument("--preset", default="fast", choices=train_config.PRESETS, metavar="NAME",
                       help=f"the recipe to start from: {_one_of(train_config.PRESETS)} "
                            "(default fast; the options below change it)")
    train.add_argument("--model", choices=contract.ARCHITECTURE_NAMES, metavar="NAME",
                       help=f"architecture: {_one_of(contract.ARCHITECTURE_NAMES)}")
    train.add_argument("--design", type=Path, metavar="FILE",
                       help="train a network designed on the Train page: its JSON definition "
                            "(instead of --model)")
    train.add_argument("--epochs", type=_positive_int)
    train.add_argument("--batch-size", type=_positive_int)
    train.add_argument("--learning-rate", type=float)
    train.add_argument("--optimizer", choices=train_config.OPTIMIZERS, metavar="NAME",
                       help=_one_of(train_config.OPTIMIZERS))
    train.add_argument("--schedule", choices=train_config.SCHEDULES, metavar="NAME",
                       help=_one_of(train_config.SCHEDULES))
    train.add_argument("--weight-decay", type=float)
    train.add_argument("--label-smoothing", type=float)
    train.add_argument("--warmup-epochs", type=float)
    train.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None)
    train.add_argument("--flip", choices=train_config.FLIPS, metavar="HOW",
                       help=f"how augment mirrors images: {_one_of(train_config.FLIPS)}")
    train.add_argument("--ema", action=argparse.BooleanOptionalAction, default=None)
    train.add_argument("--momentum", type=float)
    train.add_argument("--lookahead", action=argparse.BooleanOptionalAction, default=None,
                       help="airbench's Lookahead weight averaging (nesterov-l2)")
    train.add_argument("--bias-lr-scale", type=float, metavar="X",
                       help="batch norm's shift learns X times faster (nesterov-l2)")
    train.add_argument("--batchnorm-scale", action=argparse.BooleanOptionalAction, default=None,
                       help="learn batch norm's scale (--no-batchnorm-scale: fixed at 1, "
                            "nesterov-l2)")
    train.add_argument("--whitening-bias-epochs", type=int, metavar="N",
                       help="epochs the fast nets' whitening bias trains (nesterov-l2)")
    train.add_argument("--whitening", choices=train_config.WHITENINGS, metavar="HOW",
                       help=f"the fast nets' whitening from {_one_of(train_config.WHITENINGS)} "
                            "patches")
    train.add_argument("--precision", choices=train_config.PRECISIONS, metavar="NAME",
                       help=f"{_one_of(train_config.PRECISIONS)} (auto: bfloat16 where the "
                            "hardware has it)")
    train.add_argument("--train-size", type=_positive_int, help="training images (default all)")
    train.add_argument("--validation-size", type=int, help="test images checked each epoch")
    train.add_argument("--seed", type=int)
    train.add_argument("--runs-dir", type=Path, help="default $CIFAR_RUNS_DIR or ./runs")
    train.add_argument("--data", type=Path, help="CIFAR-10 archive or folder (default: search)")
    train.add_argument("--save", type=Path, help="also save the model here (.keras) with a card")
    train.add_argument("--resume", metavar="RUN_ID",
                       help="continue this stopped or interrupted run in place from its last "
                            "checkpoint, with its own recipe (no --preset or recipe options)")
    train.add_argument("--more-epochs", type=_positive_int, metavar="N",
                       help="with --resume: train N epochs more than the run's recipe (a "
                            "finished run)")
    train.add_argument("--backend", choices=("local", "ray"), metavar="NAME",
                       help=f"where to train: local (in this command's process) or ray "
                            f"(default ray when ${backends.ADDRESS_VARIABLE} is set)")
    train.add_argument("--ray-address", metavar="ADDRESS",
                       help=f"the Ray cluster for --backend ray (default "
                            f"${backends.ADDRESS_VARIABLE}; none: start a local Ray)")

    evaluate = commands.add_parser("evaluate", help="test accuracy of a run or model file")
    evaluate.add_argument("target", type=Path,
                          help="a run folder, or a model file: ours, or any accepted Keras "
                               ".keras/.h5 CIFAR-10 classifier (its input scaling inferred)")
    evaluate.add_argument("--data", type=Path, help="CIFAR-10 archive or folder (default: search)")
    evaluate.add_argument("--flip-average", action="store_true",
                          help="average each image's and its mirror image's probabilities "
                               "(the same as --tta 1)")
    evaluate.add_argument("--tta", type=int, nargs="?", const=2, default=0, choices=(0, 1, 2),
                          metavar="LEVEL",
                          help="test-time augmentation as airbench94's tta_level: 1 mirror, 2 "
                               "mirror and 1-pixel translations (--tta alone: 2)")
    evaluate.add_argument("--scaling", choices=SCALINGS, metavar="S",
                          help=f"a foreign file's input scaling: {_one_of(SCALINGS)} "
                               "(default: inferred)")

    imports = commands.add_parser("import", help="add a Keras model file to the catalogue",
                                  description="Check a .keras or legacy .h5 CIFAR-10 classifier, "
                                              "infer its input scaling, and add it (kept "
                                              "untouched) to $CIFAR_MODELS_DIR/imported/.")
    imports.add_argument("file", type=Path, help="the .keras or .h5 model file")
    imports.add_argument("--name", help="its name in the catalogue (default: the file's name)")
    imports.add_argument("--scaling", choices=SCALINGS, metavar="S",
                         help=f"input scaling: {_one_of(SCALINGS)} (default: inferred; write "
                              "--scaling=-1..1 for that one)")
    imports.add_argument("--data", type=Path, help="CIFAR-10 archive or folder (default: search)")
    imports.add_argument("--no-data", action="store_true",
                         help="do not use the dataset: assume 0-1 inputs, no test accuracy")
    return parser


#: CLI option -> TrainConfig field, for the options that override the preset.
OVERRIDES = ("model", "epochs", "batch_size", "learning_rate", "optimizer", "schedule",
             "weight_decay", "label_smoothing", "warmup_epochs", "augment", "flip", "ema",
             "momentum", "lookahead", "bias_lr_scale", "batchnorm_scale", "whitening_bias_epochs",
             "whitening", "precision", "train_size", "validation_size", "seed")


def _train(arguments, argv):
    from cifar_core import data
    from cifar_core.models import saving
    from cifar_core.training import recording, train_config

    if arguments.resume is not None or arguments.more_epochs is not None:
        return _resume(arguments, argv)
    overrides = {name: getattr(arguments, name) for name in OVERRIDES
                 if getattr(arguments, name) is not None}
    if overrides.get("optimizer", "nesterov-l2") != "nesterov-l2":
        # As the Train page: airbench's fields belong to its optimizer, another trains
        # without them (unless asked for by name, which TrainConfig then refuses).
        overrides = {**train_config.AIRBENCH_FIELDS, **overrides}
    if arguments.design is not None:
        from cifar_core.models import design

        if arguments.model is not None:
            raise ValueError("give --model or --design, not both")
        try:
            text = arguments.design.read_bytes()
        except OSError as error:
            raise ValueError(f"cannot read --design {arguments.design}: {error}") from error
        try:
            overrides.update(model=design.DESIGNED, design=design.from_json(text))
        except ValueError as error:
            raise ValueError(f"--design {arguments.design}: {error}") from error
    config = train_config.preset(arguments.preset, **overrides)
    if arguments.save is not None and arguments.save.suffix != ".keras":
        raise ValueError(f"--save must name a .keras file, got {arguments.save}")
    backend = arguments.backend or ("ray" if backends.ray_address() else "local")
    if backend != "ray" and arguments.ray_address is not None:
        raise ValueError("--ray-address needs --backend ray")
    dataset = data.load_cifar10(arguments.data, progress=data.progress_printer())
    if backend == "ray":
        run = cli_progress.train_on_ray(config, dataset, arguments.runs_dir,
                                       arguments.ray_address)
        if run is None:
            return 1
        model = saving.load_model(run.path / "model.keras") if arguments.save else None
    else:
        run, result = recording.train_run(config, dataset, runs_directory=arguments.runs_dir,
                                          callbacks=[cli_progress.progress_callback()])
        model = result.model
    accuracy = float(run.status["test_accuracy"])
    print(f"run: {run.path}")
    print(f"test accuracy: {accuracy:.4f}")
    if arguments.save is not None:
        path = saving.save_model(model, arguments.save)
        saving.write_model_card(path, architecture=config.model, epochs=config.epochs,
                                recipe="python -m cifar_core " + shlex.join(argv),
                                test_accuracy=accuracy, parameters=model.count_params())
        print(f"saved: {path}")
    return 0


def _resume(arguments, argv):
    """``train --resume RUN_ID [--more-epochs N]``: the run checked before the dataset loads."""
    from cifar_core import data
    from cifar_core.models import saving
    from cifar_core.training import checkpoints, recording, runs

    if arguments.resume is None:
        raise ValueError("--more-epochs needs --resume RUN_ID")
    changed = [f"--{name.replace('_', '-')}" for name in OVERRIDES
               if getattr(arguments, name) is not None]
    changed += [option for option in ("--design", "--preset")
                if any(part.split("=")[0] == option for part in argv)]
    if changed:
        raise ValueError(f"--resume continues the run with its own recipe: drop {changed}")
    if getattr(arguments, "backend", None) == "ray":
        raise ValueError("--resume trains on this machine: drop --backend ray")
    resume = checkpoints.request({"run": arguments.resume,
                                  "more_epochs": arguments.more_epochs or 0})
    directory = runs.runs_dir(arguments.runs_dir)
    runs.mark_interrupted(directory)
    record = runs.read_run(directory / resume["run"])
    if record is None:
        raise ValueError(f"no run {resume['run']!r} in {directory}")
    problem = checkpoints.resume_problem(record, resume["more_epochs"])
    if problem is not None:
        raise ValueError(problem)
    dataset = data.load_cifar10(arguments.data, progress=data.progress_printer())
    run, result = recording.train_run(None, dataset, runs_directory=directory, resume=resume,
                                      callbacks=[cli_progress.progress_callback()])
    accuracy = float(run.status["test_accuracy"])
    print(f"run: {run.path} (epochs {run.config['epochs']})")
    print(f"test accuracy: {accuracy:.4f}")
    if arguments.save is not None:
        path = saving.save_model(result.model, arguments.save)
        saving.write_model_card(path, architecture=run.config["model"],
                                epochs=run.config["epochs"],
                                recipe="python -m cifar_core " + shlex.join(argv),
                                test_accuracy=accuracy, parameters=result.model.count_params())
        print(f"saved: {path}")
    return 0


def _evaluate(arguments):
    from cifar_core import data
    from cifar_core.inspect import test_time_augmentation
    from cifar_core.models import importing, model_checks

    target = arguments.target
    path = target / "model.keras" if target.is_dir() else target
    model_checks.inspect_file(path)  # refuses a bad file before anything loads it
    dataset = data.load_cifar10(arguments.data, progress=data.progress_printer())
    model = None
    if arguments.scaling is None and (importing.is_imported(path) or path.suffix == ".keras"):
        try:
            model = importing.load_any(path)  # imported, or ours: a run, shipped, designed
        except model_checks.ModelError:
            pass  # not in the app's layout: wrapped below, as an import would be
    if model is None:
        opened = importing.open_model(path, dataset=dataset, scaling=arguments.scaling)
        model = opened.wrapped
        print(f"input scaling: {opened.choice.scaling} ({opened.choice.note}); "
              f"output: {opened.choice.output}")
    level = max(arguments.tta, 1 if arguments.flip_average else 0)
    accuracy = test_time_augmentation.tta_accuracy(model, dataset.x_test, dataset.y_test, level)
    augmented = f"; test-time augmentation: {test_time_augmentation.LEVELS[level]}" if level else ""
    print(f"test accuracy: {accuracy:.4f} ({model.name}, {path}{augmented})")
    return 0


def _import(arguments):
    from cifar_core import data
    from cifar_core.models import catalog, importing, model_checks

    model_checks.inspect_file(arguments.file)  # a bad file is refused before the dataset loads
    dataset = None
    if not arguments.no_data:
        try:
            dataset = data.load_cifar10(arguments.data, progress=data.progress_printer(),
                                        download=False)
        except data.DatasetError:
            if arguments.data is not None:
                raise  # a path given by hand that holds no dataset is an error
            print("CIFAR-10 not found: assuming 0-1 inputs, no test accuracy "
                  "(set CIFAR10_PATH, or pass --data)", file=sys.stderr)
    entry = importing.import_model(arguments.file, arguments.name, dataset=dataset,
                                   scaling=arguments.scaling, evaluate=True)
    card = catalog.model_card(entry)
    print(f"imported: {entry.key} ({entry.path})")
    print(f"input scaling: {card['scaling']} ({card['scaling_note']}); "
          f"output: {card['output']}; {card['summary']}; {card['parameters']:,} parameters")
    if card["test_accuracy"] is not None:
        print(f"test accuracy: {card['test_accuracy']:.4f} ({card['test_accuracy_on']})")
    return 0


def _import_tensorflow_quietly():
    """Import the backend with file descriptor 2 pointed at /dev/null.

    TensorFlow's C++ start-up lines (oneDNN, CUDA probing) ignore TF_CPP_MIN_LOG_LEVEL in
    this version; hiding them keeps the CLI's output to its progress and its answer.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            import cifar_core.backend  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def main(argv=None):
    """Run the command in ``argv`` (default sys.argv[1:]); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    arguments = build_parser().parse_args(argv)
    _import_tensorflow_quietly()
    from cifar_core.data import DatasetError
    from cifar_core.models.saving import ModelError

    try:
        if arguments.command == "train":
            return _train(arguments, argv)
        if arguments.command == "import":
            return _import(arguments)
        return _evaluate(arguments)
    except ValueError as error:
        print(f"python -m cifar_core: error: {error}", file=sys.stderr)
        return 2
    except (DatasetError, ModelError) as error:
        print(f"python -m cifar_core: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
