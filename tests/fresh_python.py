"""Run code in a fresh Python interpreter and tell whether it imported TensorFlow or Keras.

The test process has TensorFlow loaded already, so only a new interpreter can show that a
path (``--help``, a config, the designer's rules) answers without its seconds-long import.
"""

import subprocess
import sys

_FRAMEWORKS_LOADED = ("import sys\n"
                      "print(sorted(name for name in ('tensorflow', 'keras') "
                      "if name in sys.modules))\n")


def run_and_list_frameworks(code):
    """Run ``code``, then list the frameworks loaded: (its output, that list as printed).

    The list is the output's last line, "[]" when neither TensorFlow nor Keras was
    imported; a failing ``code`` fails the calling test with its error output.
    """
    completed = subprocess.run([sys.executable, "-c", code + "\n" + _FRAMEWORKS_LOADED],
                               capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr
    return completed.stdout, completed.stdout.strip().splitlines()[-1]


def cli_help_and_frameworks(command):
    """``python -m cifar_core <command> --help``'s output and the frameworks it loaded."""
    return run_and_list_frameworks(
        "from cifar_core import cli\n"
        f"try:\n    cli.main([{command!r}, '--help'])\nexcept SystemExit:\n    pass")
