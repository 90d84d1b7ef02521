"""The run folder: one training at a time, and JSON files that are always complete and valid.

    with RunLock(out):              # refuses when another living process trains into `out`
        ... train, writing with write_json(out / "summary.json", summary) ...

Why a lock: two trainings into the same folder would both "succeed" and leave one folder
mixing their checkpoints, samples and histories. The lock is a file, `out/.lock`, holding
the pid of the training that owns the folder. It is created with O_CREAT | O_EXCL, which
the operating system performs as one step: of two processes racing to create it, exactly
one succeeds. The owner removes it when it ends, however it ends (an exception, Ctrl-C).
A process killed outright (kill -9, a power cut) cannot remove it; its lock is then
"stale": the pid in it no longer runs, and the next training takes the folder over.

Creating the lock is also the first write into the folder, so a folder that cannot be
written (read-only, or `--out` naming a file) is found before any training, not after.
"""

import json
import math
import os
from pathlib import Path

from .errors import UserError

LOCK_NAME = ".lock"


class RunFolderError(UserError):
    """The run folder cannot be used: not writable, a file, or in use by another training."""


class RunLock:
    """Hold `folder` (created if missing) for this process; see the module docstring."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self.held = False
        self.created = False  # whether we made the folder: a refused or failed run then leaves none

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()

    def acquire(self):
        try:
            self.created = not self.folder.exists()
            self.folder.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise RunFolderError(f"cannot use {self.folder} as a run folder: it is a file") from None
        except OSError as error:
            raise RunFolderError(f"cannot create the run folder {self.folder}: {error.strerror or error}") from None
        if not self.folder.is_dir():
            raise RunFolderError(f"cannot use {self.folder} as a run folder: it is not a folder")
        # Two tries: the second after removing a stale lock left by a killed training.
        for _ in range(2):
            if self._create():
                self.held = True
                return
            owner = self._owner()
            if owner is not None and owner != os.getpid() and process_is_alive(owner):
                raise RunFolderError(f"{self.folder} is in use by another training (pid {owner}); "
                                     f"wait for it to end, or choose another --out")
            self.path.unlink(missing_ok=True)  # stale: its process is gone
        raise RunFolderError(f"cannot lock {self.folder}: another training keeps taking it over")

    def release(self):
        """Remove the lock, if it is still ours (never a lock another process took over)."""
        if self.held and self._owner() == os.getpid():
            self.path.unlink(missing_ok=True)
            if self.created and not any(self.folder.iterdir()):
                self.folder.rmdir()
        self.held = False

    def _create(self):
        """True if we created the lock file; False if it exists already."""
        try:
            descriptor = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        except OSError as error:
            raise RunFolderError(f"cannot write into the run folder {self.folder}: "
                                 f"{error.strerror or error}") from None
        with os.fdopen(descriptor, "w") as file:
            file.write(f"{os.getpid()}\n")
        return True

    def _owner(self):
        """The pid written in the lock file, or None if it is gone, empty or unreadable."""
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None


def process_is_alive(pid):
    """Whether a process with this pid exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, but belongs to another user
        return True
    return True


def finite_or_none(value):
    """`value` with every NaN or infinity (at any depth) replaced by None.

    Python's json writes NaN as a bare `NaN`, which is not JSON: other readers refuse the file.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    return value


def write_json(path, value):
    """Write `value` as strict JSON (non-finite numbers become null), atomically: to a temporary
    file beside `path`, then renamed, so a reader never finds a half-written file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        temporary.write_text(json.dumps(finite_or_none(value), indent=2, allow_nan=False) + "\n")
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
