"""Downloading a data file safely: mirrors tried in order, a progress bar, a checksum, and an
atomic write, so that the cache never holds a half-written or corrupt file.

    path = download_with_mirrors("train-images-idx3-ubyte.gz",
                                 ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                                  "http://yann.lecun.com/exdb/mnist/"],
                                 folder=cache / "mnist",
                                 verify=md5_verifier("f68b3c2dcbeaaa9fbdd348bbdeb94873"))

How one download goes (`download_url`):
  1. stream the bytes into a temporary file *in the destination folder* (".NAME.XXXX.part"),
     showing a tqdm bar;
  2. check that the server sent as many bytes as it promised (Content-Length), then call
     `verify(temp_path)`, which raises ChecksumError when the content is wrong;
  3. only then rename the temporary file onto the final name. A rename within one folder is
     atomic, so readers see either no file or the whole, verified file, never a partial one.
Whatever goes wrong (network, checksum, Ctrl-C), the temporary file is deleted.

Nothing here knows about MNIST: CelebA or any other dataset can use the same helpers.
"""

import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from ..errors import UserError

USER_AGENT = "minigrad/0.1 (Python urllib)"  # some hosts refuse requests without a User-Agent
CHUNK_SIZE = 1 << 16


class DownloadError(UserError, RuntimeError):
    """No mirror gave a good copy of a file.

    filename  the file we wanted
    attempts  a list of (url, reason) pairs, one per mirror tried, in order
    """

    def __init__(self, filename, attempts):
        self.filename, self.attempts = filename, list(attempts)
        lines = [f"could not download {filename} from any of {len(self.attempts)} mirror(s):"]
        lines += [f"  - {url}: {reason}" for url, reason in self.attempts]
        super().__init__("\n".join(lines))


class ChecksumError(UserError, ValueError):
    """A file's content is not what we expected.

    filename  the file checked;  url  where it came from (None for a local file)
    expected  the checksum(s) we wanted, as text;  actual  the checksum we found
    advice    what the user can do about it (optional)
    """

    def __init__(self, filename, expected, actual, url=None, algorithm="md5", advice=None):
        self.filename, self.expected, self.actual = filename, expected, actual
        self.url, self.algorithm, self.advice = url, algorithm, advice
        super().__init__(filename)

    def __str__(self):  # built on demand, so that download_url can fill in `url` afterwards
        where = f" downloaded from {self.url}" if self.url else ""
        message = (f"checksum mismatch for {self.filename}{where}: expected {self.algorithm} "
                   f"{self.expected}, got {self.actual}")
        return message + (f". {self.advice}" if self.advice else "")


class IncompleteDownloadError(OSError):
    """The connection ended before the server sent all the bytes it announced."""


# --- where data lives ------------------------------------------------------------------

def cache_dir():
    """The user cache for minigrad's data: $XDG_CACHE_HOME/minigrad, else ~/.cache/minigrad."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "minigrad"


def data_roots(data_dir):
    """(description, data root or None) for each place to look for a dataset, in order of precedence."""
    return [("--data-dir", data_dir),
            ("$MINIGRAD_DATA", os.environ.get("MINIGRAD_DATA") or None),
            ("the user cache", cache_dir())]


# --- checksums ----------------------------------------------------------------------

def file_digest(path, algorithm="md5", chunk_size=1 << 20):
    """A hashlib digest ("md5", "sha256", ...) of a file's bytes, in hex (read in chunks: constant memory)."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(chunk_size), b""):
            digest.update(chunk)
    return digest.hexdigest()


def md5sum(path):
    """The md5 of a file's bytes, as 32 hex digits (what the MNIST mirrors publish)."""
    return file_digest(path, "md5")


def md5_verifier(*expected):
    """A `verify` callable that accepts a file whose md5 is any of `expected`."""
    expected = {md5.lower() for md5 in expected}

    def verify(path):
        actual = md5sum(path)
        if actual not in expected:
            raise ChecksumError(Path(path).name, " or ".join(sorted(expected)), actual)
    return verify


# --- one URL --------------------------------------------------------------------------

def download_url(url, destination, verify=None, progress=True, timeout=30.0):
    """Download `url` to the file `destination` (a Path), atomically. Returns `destination`.

    verify    None, or a callable verify(path) that raises ChecksumError when the file at
              `path` (the not-yet-renamed download) has the wrong content
    progress  show a tqdm progress bar (on stderr)
    timeout   seconds to wait for the server at each step (connecting, each read)

    Raises urllib.error.URLError / OSError for network trouble, IncompleteDownloadError for a
    cut-off transfer, ChecksumError (with `.url` set) for wrong content. In every case no file
    is left behind, and an existing `destination` is left as it was.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    # The temporary file lives beside the destination: os.replace is only atomic within one
    # file system, and a hidden ".part" name keeps it from being mistaken for the real file.
    handle, temp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.",
                                         suffix=".part")
    temp_path = Path(temp_name)
    try:
        with os.fdopen(handle, "wb") as out:
            _stream(url, out, destination.name, progress, timeout)
        if verify is not None:
            try:
                verify(temp_path)
            except ChecksumError as error:
                error.url = url
                raise
        os.replace(temp_path, destination)
    except BaseException:  # also Ctrl-C: never leave a .part file in the cache
        temp_path.unlink(missing_ok=True)
        raise
    return destination


def _stream(url, out, label, progress, timeout):
    """Copy the body of `url` into the open file `out`, with a progress bar."""
    from tqdm import tqdm  # imported here: only downloads need it

    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        announced = response.headers.get("Content-Length")
        announced = int(announced) if announced is not None else None
        received = 0
        with tqdm(total=announced, unit="B", unit_scale=True, unit_divisor=1024, desc=label,
                  disable=not progress) as bar:
            for chunk in iter(lambda: response.read(CHUNK_SIZE), b""):
                out.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    # http.client returns a short body silently when the connection drops, so we count.
    if announced is not None and received != announced:
        raise IncompleteDownloadError(f"connection closed after {received:,} of {announced:,} bytes")


# --- several mirrors --------------------------------------------------------------------

# What counts as "this mirror failed, try the next": network errors, HTTP errors (URLError is
# an OSError), protocol errors, a malformed mirror URL (ValueError), and wrong content.
_MIRROR_FAILURES = (OSError, http.client.HTTPException, ValueError)


def download_with_mirrors(filename, mirrors, folder, verify=None, progress=True, timeout=30.0):
    """Download `filename` into `folder` from the first mirror that gives a good copy.

    mirrors  base URLs, tried in order; the file's URL is mirror + filename
             (a missing trailing "/" is added)
    verify, progress, timeout   as in download_url

    Returns the Path folder/filename. Raises DownloadError, listing every mirror tried and
    why it failed, when none worked. A mirror that serves a corrupt file (ChecksumError) does
    not stop the search: the next mirror may have a good copy.
    """
    attempts = []
    for mirror in mirrors:
        url = mirror if mirror.endswith("/") else mirror + "/"
        url += filename
        try:
            return download_url(url, Path(folder) / filename, verify=verify, progress=progress,
                                timeout=timeout)
        except _MIRROR_FAILURES as error:
            attempts.append((url, _describe(error)))
    raise DownloadError(filename, attempts)


def _describe(error):
    """A one-line reason for a failed attempt, without the exception's noise."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        return f"cannot connect ({error.reason})"
    if isinstance(error, ChecksumError):
        return (f"wrong content (checksum mismatch: expected {error.algorithm} {error.expected}, "
                f"got {error.actual}); the file was not kept")
    return f"{type(error).__name__}: {error}"
