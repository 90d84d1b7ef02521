"""gans.data.download against a real HTTP server on 127.0.0.1 (no internet needed).

The server serves a few small files, and misbehaves on purpose: /missing/ gives 404, and
/truncated/ announces the full Content-Length but sends only half the bytes.
"""

import hashlib
from http.server import BaseHTTPRequestHandler

import pytest

from helpers import http_server

from gans.data.download import (ChecksumError, DownloadError, IncompleteDownloadError,
                                download_url, download_with_mirrors, md5_verifier, md5sum)

PAYLOAD = bytes(range(256)) * 400          # 102,400 bytes: several read chunks
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()
OTHER = b"not the file you are looking for"


class _Handler(BaseHTTPRequestHandler):
    """Serves self.server.files {path: bytes}; /truncated/NAME sends half of /good/NAME."""

    def do_GET(self):
        files = self.server.files
        if self.path.startswith("/truncated/"):
            body = files["/good/" + self.path.rsplit("/", 1)[1]]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])  # then the connection closes (HTTP/1.0)
            return
        if self.path not in files:
            self.send_error(404, "Not Found")
            return
        body = files[self.path]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server():
    """Base URL of a local server: /good/data.bin is PAYLOAD, /corrupt/data.bin is OTHER."""
    with http_server(_Handler, files={"/good/data.bin": PAYLOAD, "/corrupt/data.bin": OTHER}) as url:
        yield url


def files_in(folder):
    """Every name in `folder`, hidden ones (a leftover .part file) included."""
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_md5sum_of_known_bytes(tmp_path):
    path = tmp_path / "hello.txt"
    path.write_bytes(b"hello")
    assert md5sum(path) == "5d41402abc4b2a76b9719d911017c592"


def test_md5_verifier_accepts_any_listed_checksum(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(PAYLOAD)
    md5_verifier("0" * 32, PAYLOAD_MD5.upper())(path)  # no error: the second one matches
    with pytest.raises(ChecksumError) as caught:
        md5_verifier("0" * 32)(path)
    assert caught.value.expected == "0" * 32 and caught.value.actual == PAYLOAD_MD5


def test_download_writes_the_verified_file_and_shows_progress(server, tmp_path, capsys):
    destination = tmp_path / "cache" / "data.bin"  # the folder does not exist yet
    result = download_url(f"{server}/good/data.bin", destination, verify=md5_verifier(PAYLOAD_MD5))
    assert result == destination
    assert destination.read_bytes() == PAYLOAD
    assert files_in(destination.parent) == ["data.bin"]  # no temporary file left
    assert "data.bin" in capsys.readouterr().err      # tqdm's bar, labelled with the file


def test_progress_bar_can_be_switched_off(server, tmp_path, capsys):
    download_url(f"{server}/good/data.bin", tmp_path / "data.bin", progress=False)
    assert capsys.readouterr().err == ""


def test_wrong_checksum_leaves_no_file_and_names_url_and_checksums(server, tmp_path):
    url = f"{server}/corrupt/data.bin"
    with pytest.raises(ChecksumError) as caught:
        download_url(url, tmp_path / "data.bin", verify=md5_verifier(PAYLOAD_MD5))
    message = str(caught.value)
    assert "data.bin" in message and url in message
    assert PAYLOAD_MD5 in message and hashlib.md5(OTHER).hexdigest() in message
    assert files_in(tmp_path) == []


def test_failed_download_keeps_the_existing_file(server, tmp_path):
    destination = tmp_path / "data.bin"
    destination.write_bytes(b"an older good copy")
    with pytest.raises(ChecksumError):
        download_url(f"{server}/corrupt/data.bin", destination, verify=md5_verifier(PAYLOAD_MD5))
    assert destination.read_bytes() == b"an older good copy"
    assert files_in(tmp_path) == ["data.bin"]


def test_cut_off_transfer_is_an_error_and_leaves_no_file(server, tmp_path):
    with pytest.raises(IncompleteDownloadError, match=f"51,200 of {len(PAYLOAD):,} bytes"):
        download_url(f"{server}/truncated/data.bin", tmp_path / "data.bin")  # even unverified
    assert files_in(tmp_path) == []


def test_http_error_leaves_no_file(server, tmp_path):
    with pytest.raises(OSError, match="404"):
        download_url(f"{server}/missing/data.bin", tmp_path / "data.bin")
    assert files_in(tmp_path) == []


def test_mirrors_fall_back_in_order(server, tmp_path, closed_port):
    mirrors = [f"{server}/missing/",                 # 404
               f"http://127.0.0.1:{closed_port}/",   # connection refused
               f"{server}/corrupt",                  # wrong content (and no trailing slash)
               f"{server}/good/"]
    path = download_with_mirrors("data.bin", mirrors, tmp_path, verify=md5_verifier(PAYLOAD_MD5),
                                 progress=False)
    assert path == tmp_path / "data.bin" and path.read_bytes() == PAYLOAD
    assert files_in(tmp_path) == ["data.bin"]


def test_first_good_mirror_wins(server, tmp_path):
    # Without verification the corrupt mirror's file is taken: mirrors are tried in order.
    path = download_with_mirrors("data.bin", [f"{server}/corrupt/", f"{server}/good/"], tmp_path,
                                 progress=False)
    assert path.read_bytes() == OTHER


def test_all_mirrors_failing_lists_every_attempt(server, tmp_path, closed_port):
    mirrors = [f"{server}/missing/", f"http://127.0.0.1:{closed_port}/", f"{server}/corrupt/",
               f"{server}/truncated/"]
    with pytest.raises(DownloadError) as caught:
        download_with_mirrors("data.bin", mirrors, tmp_path, verify=md5_verifier(PAYLOAD_MD5),
                              progress=False)
    error = caught.value
    assert error.filename == "data.bin"
    assert [url for url, _ in error.attempts] == [m + "data.bin" for m in mirrors]
    reasons = [reason for _, reason in error.attempts]
    assert reasons[0] == "HTTP 404 Not Found"
    assert reasons[1].startswith("cannot connect")
    assert "checksum mismatch" in reasons[2] and PAYLOAD_MD5 in reasons[2]
    assert "IncompleteDownloadError" in reasons[3]
    assert all(m + "data.bin" in str(error) for m in mirrors)
    assert files_in(tmp_path) == []
