#!/usr/bin/env python3
"""Train a small Keras CNN on MNIST digits, evaluate it on held-out digits, write result.txt.

    pip install -r requirements.txt
    python3 demo.py                      # defaults: offline, shipped digits, seed 42
    python3 demo.py --epochs 8 --width 32
    python3 demo.py --dataset full       # the full 70,000-digit MNIST (downloads it: needs internet)

result.txt (in the current directory) is JSON: the test-set loss and accuracy, and the
per-epoch training history. Run `python3 demo.py --help` for every setting and its
environment variable.
"""

import argparse
import json
import math
import os
import random
import re
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA_FILE = os.path.join(HERE, "data", "mnist-10k.npz")
REGENERATE_HINT = (
    "Regenerate it with `node scripts/build-data.mjs` (in ml-demo/; needs Node and the npm "
    "registry), or restore it with `git checkout -- data/mnist-10k.npz`. See data/README.md."
)
# What the shipped file holds, as written by scripts/build-data.mjs.
EXPECTED_ARRAYS = {"x_train": 3, "y_train": 1, "x_test": 3, "y_test": 1}


class DataError(Exception):
    """The data cannot be loaded; the message says what to do."""


# --- settings -----------------------------------------------------------------------------------


def parsed(text, convert, kind):
    """`convert(text)`, or the argparse error that says what `text` should have been."""
    try:
        return convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be {kind}, got {text!r}") from None


def positive_int(text):
    value = parsed(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seed_value(text):
    value = parsed(text, int, "a whole number")
    # NumPy's legacy seeding accepts 0 .. 2**32 - 1.
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be between 0 and {2**32 - 1}, got {value}")
    return value


def positive_float(text):
    value = parsed(text, float, "a number")
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def dropout_rate(text):
    value = parsed(text, float, "a number")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and below 1, got {text!r}")
    return value


# (flag, environment variable, parse, default, help). A flag wins over its variable.
SETTINGS = [
    ("--epochs", "EPOCHS", positive_int, 5, "passes over the training digits"),
    ("--batch-size", "BATCH_SIZE", positive_int, 128, "digits per gradient step"),
    ("--learning-rate", "LEARNING_RATE", positive_float, 0.003, "Adam's learning rate"),
    ("--width", "WIDTH", positive_int, 32, "filters of the first convolution; the second has twice as many"),
    ("--dropout", "DROPOUT", dropout_rate, 0.25, "dropout rate before the output layer"),
    ("--seed", "EVALBOT_SEED", seed_value, 42, "seed of every random generator; evalbot sets it"),
]


def parse_settings(argv, env):
    parser = argparse.ArgumentParser(
        description="Train a small Keras CNN on MNIST digits and write its test metrics to result.txt.",
        # A mistyped flag must fail, not silently match a longer one (--epoch for --epochs).
        allow_abbrev=False,
        epilog="Each setting can also come from the environment variable shown; a flag wins over it. "
        "Exit status: 0 when result.txt is written, 1 when the data cannot be loaded or training "
        "diverges, 2 for a bad setting.",
    )
    for flag, variable, parse, default, help_text in SETTINGS:
        parser.add_argument(
            flag, type=parse, metavar=variable, help=f"{help_text} (env {variable}, default {default})"
        )
    parser.add_argument(
        "--dataset",
        choices=["shipped", "full"],
        help="shipped: the 10,000 digits in --data-file, 8,000 to train and 2,000 to test (offline); "
        "full: keras.datasets.mnist, 60,000 + 10,000 digits, downloaded once (env DATASET, default shipped)",
    )
    parser.add_argument(
        "--data-file",
        metavar="PATH",
        help="the shipped digits (env DATA_FILE, default data/mnist-10k.npz beside demo.py)",
    )
    parser.add_argument(
        "--output",
        metavar="PATH",
        default="result.txt",
        help="where to write the metrics (default result.txt)",
    )
    args = parser.parse_args(argv)

    for flag, variable, parse, default, _ in SETTINGS:
        name = flag[2:].replace("-", "_")
        if getattr(args, name) is not None:
            continue
        raw = env.get(variable, "").strip()
        if raw == "":
            setattr(args, name, default)
            continue
        try:
            setattr(args, name, parse(raw))
        except argparse.ArgumentTypeError as error:
            parser.error(f"environment variable {variable} (used for {flag}): {error}")
    if args.dataset is None:
        args.dataset = env.get("DATASET", "").strip() or "shipped"
        if args.dataset not in ("shipped", "full"):
            parser.error(
                "environment variable DATASET (used for --dataset): "
                f"must be shipped or full, got {args.dataset!r}"
            )
    if args.data_file is None:
        args.data_file = env.get("DATA_FILE", "").strip() or DEFAULT_DATA_FILE
    return args


# --- data ---------------------------------------------------------------------------------------


def load_shipped_digits(path):
    """Returns ((x_train, y_train), (x_test, y_test)) as uint8 arrays, checked for shape and range."""
    import numpy as np

    if not os.path.isfile(path):
        raise DataError(f"The digits file {path} is missing. {REGENERATE_HINT}")
    if not zipfile.is_zipfile(path):
        # A truncated copy, or a Git LFS pointer checked out instead of the file, lands here.
        raise DataError(
            f"The digits file {path} is corrupt: it is not an .npz (zip) archive. {REGENERATE_HINT}"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [name for name in EXPECTED_ARRAYS if name not in archive.files]
            if missing:
                raise DataError(
                    f"The digits file {path} has no {', '.join(missing)} array. {REGENERATE_HINT}"
                )
            arrays = {name: archive[name] for name in EXPECTED_ARRAYS}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        # The zip's CRCs catch flipped bits; a damaged .npy header lands here too.
        raise DataError(f"The digits file {path} is corrupt ({error}). {REGENERATE_HINT}") from None

    for name, ndim in EXPECTED_ARRAYS.items():
        array = arrays[name]
        if array.dtype != np.uint8 or array.ndim != ndim or (ndim == 3 and array.shape[1:] != (28, 28)):
            raise DataError(
                f"The digits file {path} holds {name} as {array.dtype} {array.shape}, "
                f"expected uint8 images of 28x28 and their labels. {REGENERATE_HINT}"
            )
    for split in ("train", "test"):
        images, labels = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if len(images) != len(labels) or len(labels) == 0 or labels.max() > 9:
            raise DataError(
                f"The digits file {path} has inconsistent {split} images and labels. {REGENERATE_HINT}"
            )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_full_mnist():
    from keras.datasets import mnist

    try:
        return mnist.load_data()
    except Exception as error:  # noqa: BLE001 -- urllib, HTTP and zip errors all mean the same here
        raise DataError(
            f"Could not download the full MNIST ({error}). It needs internet access once; "
            "run without --dataset full to use the digits shipped with this repository."
        ) from None


def preprocess(images, labels):
    """uint8 28x28 images -> float32 in [0, 1] with a channel axis; labels -> int32 class ids."""
    import numpy as np

    return (images.astype(np.float32) / 255.0)[..., np.newaxis], labels.astype(np.int32)


# --- TensorFlow ---------------------------------------------------------------------------------

# TensorFlow 2.21 logs these through absl before it reads TF_CPP_MIN_LOG_LEVEL, so that variable
# cannot silence them; they say nothing a user of this demo can act on.
IMPORT_NOISE = re.compile(r"All log messages before absl::InitializeLog\(\)|oneDNN custom operations are on")


def import_tensorflow_quietly():
    """Imports TensorFlow and Keras with their known start-up notices filtered out of stderr."""
    sys.stderr.flush()
    saved_stderr = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import keras  # noqa: F401 -- imported here so its start-up output is filtered too
            import tensorflow as tf
        finally:
            sys.stderr.flush()
            os.dup2(saved_stderr, 2)
            os.close(saved_stderr)
            # Everything else (an import error's traceback, a real warning) is passed on.
            captured.seek(0)
            for line in captured.read().decode("utf-8", errors="replace").splitlines(keepends=True):
                if not IMPORT_NOISE.search(line):
                    sys.stderr.write(line)
            sys.stderr.flush()
    return tf


# --- model ------------------------------------------------------------------------------------


def seed_everything(seed):
    """Same seed, same machine, same result: a reused base result can be compared with a new head."""
    import keras
    import numpy as np
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
    keras.utils.set_random_seed(seed)
    # Picks deterministic kernels (and fails loudly on an op that has none) on CPU and GPU alike.
    tf.config.experimental.enable_op_determinism()


def build_model(width, dropout, learning_rate):
    import keras
    from keras import layers

    model = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(width, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(2 * width, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(dropout),
            layers.Dense(10, activation="softmax"),
        ],
        name="mnist_cnn",
    )
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def train_and_evaluate(tf, args, train, test):
    """Fits the model and returns its test loss, test accuracy and per-epoch history as floats."""
    (x_train, y_train), (x_test, y_test) = train, test
    model = build_model(args.width, args.dropout, args.learning_rate)
    # The last 10% of the training digits validate each epoch: a fixed subset, never the test set.
    validation_size = len(x_train) // 10
    x_fit, y_fit = x_train[:-validation_size], y_train[:-validation_size]
    x_val, y_val = x_train[-validation_size:], y_train[-validation_size:]
    # Our own tf.data pipelines: Keras' adapter for NumPy arrays logs a spurious C++ error on TF 2.21.
    fit_data = (
        tf.data.Dataset.from_tensor_slices((x_fit, y_fit))
        .shuffle(len(x_fit), seed=args.seed, reshuffle_each_iteration=True)
        .batch(args.batch_size)
        .prefetch(2)
    )
    fit = model.fit(
        fit_data, epochs=args.epochs, validation_data=batches(tf, x_val, y_val), shuffle=False, verbose=2
    )
    loss, accuracy = model.evaluate(batches(tf, x_test, y_test), verbose=0)
    history = {name: [float(value) for value in values] for name, values in fit.history.items()}
    return float(loss), float(accuracy), history


def batches(tf, images, labels):
    return tf.data.Dataset.from_tensor_slices((images, labels)).batch(500)


def write_result(path, result):
    """Writes JSON through a temp file, so a crash never leaves a half-written result behind."""
    temp = f"{path}.tmp"
    with open(temp, "w", encoding="utf-8") as file:
        json.dump(result, file, indent=2, allow_nan=False)
        file.write("\n")
    os.replace(temp, path)


def main(argv=None):
    started = time.monotonic()
    args = parse_settings(sys.argv[1:] if argv is None else argv, os.environ)

    # Before TensorFlow loads: its C++ logs and oneDNN notices drown the progress lines.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # The model feeds tf.data pipelines, so no other backend will do.
    os.environ["KERAS_BACKEND"] = "tensorflow"

    try:
        # The shipped file is checked before TensorFlow's slow import, so a bad file fails at once.
        data = load_shipped_digits(args.data_file) if args.dataset == "shipped" else None
        tf = import_tensorflow_quietly()
        if data is None:
            data = load_full_mnist()
    except DataError as error:
        print(f"demo.py: {error}", file=sys.stderr)
        return 1
    (x_train, y_train), (x_test, y_test) = (preprocess(*data[0]), preprocess(*data[1]))

    seed_everything(args.seed)
    device = "GPU" if tf.config.list_physical_devices("GPU") else "CPU"
    print(
        f"Training on {len(x_train)} digits (a tenth of them validates each epoch), "
        f"testing on {len(x_test)}; "
        f"{device}, TensorFlow {tf.__version__}, seed {args.seed}",
        flush=True,
    )
    print(
        f"epochs={args.epochs} batch_size={args.batch_size} learning_rate={args.learning_rate} "
        f"width={args.width} dropout={args.dropout}",
        flush=True,
    )

    loss, accuracy, history = train_and_evaluate(tf, args, (x_train, y_train), (x_test, y_test))
    if not all(math.isfinite(value) for value in [loss, accuracy, *sum(history.values(), [])]):
        print(
            f"demo.py: training diverged (test loss {loss}); try a lower --learning-rate. "
            f"{args.output} was not written.",
            file=sys.stderr,
        )
        return 1
    write_result(args.output, {"loss": loss, "accuracy": accuracy, "history": history})
    print(
        f"Test accuracy {accuracy:.4f}, loss {loss:.4f} on {len(x_test)} held-out digits "
        f"({time.monotonic() - started:.1f} s); wrote {args.output}",
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
