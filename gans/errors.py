"""The one family of errors that are the user's to fix, and that the CLI prints in one line.

A wrong argument, a missing or damaged file, a run folder that cannot be written: each is
raised as a UserError (or a subclass) whose message says what is wrong and what to do. The
command line (gans/cli.py) prints such an error as one line and exits with status 2; any
other exception is a bug, and keeps its traceback.

Subclasses elsewhere also derive from the built-in error they replace (an MNIST file that
fails its checksum is still a ValueError), so that code catching those keeps working.
"""


class UserError(Exception):
    """A problem the user can fix (bad argument, missing or damaged file, unwritable folder)."""


class TrainingDiverged(Exception):
    """The losses or weights stopped being finite numbers; training stopped (exit status 1).

    Not a UserError: nothing the user typed was wrong, but the run cannot go on.
    """


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training, after the Trainer saved a checkpoint; the message says where."""
