"""gans.data.mnist: the idx and CSV readers on the real files, finding and downloading the
data (against a real HTTP server on 127.0.0.1), and the datasets.

Every test runs with its own empty user cache ($XDG_CACHE_HOME in tmp_path) and without
$MINIGRAD_DATA, so the real ~/.cache is never touched.
"""

import gzip
import shutil
from functools import partial
from http.server import SimpleHTTPRequestHandler

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported anywhere: no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import minigrad as mg  # noqa: E402
from gans.data import mnist  # noqa: E402
from helpers import http_server  # noqa: E402
from gans.data.download import ChecksumError  # noqa: E402
from gans.data.mnist import (MNIST, BookMnistDataset, IdxFormatError, MnistNotFoundError,  # noqa: E402
                             find_mnist, read_idx, read_mnist_csv, read_mnist_idx)

# The well-known class counts of MNIST, digits 0 to 9.
TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


@pytest.fixture(autouse=True)
def isolated_places(monkeypatch, tmp_path):
    """An empty user cache of our own, and no $MINIGRAD_DATA from the environment."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)


@pytest.fixture(scope="session")
def mnist_dir(shared_data):
    folder = shared_data / "mnist"
    if not all((folder / name).is_file() for name in mnist.FILES):
        pytest.skip(f"the four MNIST .gz files are not in {folder}")
    return folder


@pytest.fixture(scope="session")
def csv_dir(shared_data):
    folder = shared_data / "mnist_csv"
    if not (folder / "mnist_train_100.csv").is_file():
        pytest.skip(f"the book's CSV subsets are not in {folder}")
    return folder


@pytest.fixture(scope="session")
def train_set(mnist_dir):
    return read_mnist_idx(mnist_dir, train=True)


@pytest.fixture(scope="session")
def test_set(mnist_dir):
    return read_mnist_idx(mnist_dir, train=False)


@pytest.fixture(scope="module")
def test_dataset(mnist_dir):
    return MNIST(mnist_dir.parent, train=False)


# --- a local HTTP server standing in for the MNIST mirrors -------------------------------

class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(mnist_dir, tmp_path_factory):
    """Base URL of a local server with three mirror folders, each meant to hold the four files:

    good/        copies of the real files
    truncated/   train-images cut to half its .gz bytes (the first file downloaded)
    wrong/       good files, except train-labels: valid gzip, one label changed
    """
    served = tmp_path_factory.mktemp("served")
    for folder in ("good", "truncated", "wrong"):
        (served / folder).mkdir()
        for name in mnist.FILES:
            shutil.copyfile(mnist_dir / name, served / folder / name)
    images = (mnist_dir / "train-images-idx3-ubyte.gz").read_bytes()
    (served / "truncated" / "train-images-idx3-ubyte.gz").write_bytes(images[: len(images) // 2])
    labels = bytearray(gzip.decompress((mnist_dir / "train-labels-idx1-ubyte.gz").read_bytes()))
    labels[8] = (labels[8] + 1) % 10
    (served / "wrong" / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(bytes(labels)))

    with http_server(partial(_QuietHandler, directory=str(served))) as url:
        yield url


def cache_folder():
    return mnist.cache_dir() / "mnist"


def files_in(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- the idx reader on the real files ----------------------------------------------------

def test_idx_training_set(train_set):
    images, labels = train_set
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == TRAIN_COUNTS and sum(TRAIN_COUNTS) == 60000
    assert labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert images.min() == 0 and images.max() == 255
    assert images[0].max() == 255 and images[0, 0, 0] == 0  # ink in the middle, none in the corner


def test_idx_test_set(test_set):
    images, labels = test_set
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == TEST_COUNTS and sum(TEST_COUNTS) == 10000
    assert labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_read_idx_gives_the_header_shape_and_type(tmp_path):
    values = np.arange(6, dtype=">i4").reshape(2, 3)
    header = (0x0C02).to_bytes(4, "big") + (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    (tmp_path / "ints.idx").write_bytes(header + values.tobytes())        # not compressed
    (tmp_path / "ints.idx.gz").write_bytes(gzip.compress(header + values.tobytes()))
    for name in ("ints.idx", "ints.idx.gz"):
        array = read_idx(tmp_path / name)
        assert array.shape == (2, 3) and array.dtype == np.dtype(">i4")
        assert array.tolist() == [[0, 1, 2], [3, 4, 5]]


# --- broken files give errors that say what to do ------------------------------------------

def _copy_test_files(mnist_dir, folder):
    folder.mkdir(parents=True, exist_ok=True)
    for name in mnist.TEST_FILES:
        shutil.copyfile(mnist_dir / name, folder / name)
    return folder


def test_truncated_gz_is_a_clear_error(mnist_dir, tmp_path):
    folder = _copy_test_files(mnist_dir, tmp_path / "mnist")
    path = folder / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:100_000])
    with pytest.raises(IdxFormatError) as caught:
        read_mnist_idx(folder, train=False)
    message = str(caught.value)
    assert str(path) in message and "truncated or corrupt gzip" in message
    assert "Delete" in message and "--data-dir" in message


def test_truncated_content_in_a_valid_gzip_is_a_clear_error(tmp_path):
    header = (2051).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (10, 28, 28))
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(header + bytes(28 * 28 * 3)))  # 3 of the 10 images announced
    with pytest.raises(IdxFormatError, match=r"is truncated: its header announces shape \(10, 28, 28\)"):
        read_idx(path, expected_magic=2051)


def test_wrong_magic_is_a_clear_error(mnist_dir, tmp_path):
    # Labels where images should be, as a mix-up of file names would give.
    folder = _copy_test_files(mnist_dir, tmp_path / "mnist")
    shutil.copyfile(mnist_dir / "t10k-labels-idx1-ubyte.gz", folder / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(IdxFormatError) as caught:
        read_mnist_idx(folder, train=False)
    message = str(caught.value)
    assert "magic number 2049" in message and "should be 2051" in message and "Delete" in message


def test_not_an_idx_file_is_a_clear_error(tmp_path):
    path = tmp_path / "page.gz"
    path.write_bytes(gzip.compress(b"<html>404 Not Found</html>"))  # what a bad mirror may send
    with pytest.raises(IdxFormatError, match="is not an idx file"):
        read_idx(path)


def test_local_file_with_wrong_content_fails_its_checksum(tmp_path):
    # Well-formed idx files under MNIST's names, but not MNIST's bytes.
    folder = tmp_path / "mnist"
    folder.mkdir()
    images_header = (2051).to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in (10, 28, 28))
    labels_header = (2049).to_bytes(4, "big") + (10).to_bytes(4, "big")
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(images_header + bytes(7840)))
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(labels_header + bytes(range(10))))
    with pytest.raises(ChecksumError) as caught:
        read_mnist_idx(folder, train=False)
    message = str(caught.value)
    assert mnist.FILES["t10k-images-idx3-ubyte.gz"].md5 in message
    assert "Delete" in message and "--data-dir" in message
    images, labels = read_mnist_idx(folder, train=False, verify=False)  # the structure is fine
    assert images.shape == (10, 28, 28) and labels.tolist() == list(range(10))


# --- the book's CSV format ------------------------------------------------------------------

def test_csv_rows_are_the_first_rows_of_the_idx_sets(csv_dir, train_set, test_set):
    # Found by comparing: the book's CSV subsets hold exactly the first images of each idx set.
    for csv_name, (idx_images, idx_labels), n in [("mnist_train_100.csv", train_set, 100),
                                                  ("mnist_test_10.csv", test_set, 10)]:
        images, labels = read_mnist_csv(csv_dir / csv_name)
        assert images.shape == (n, 28, 28) and images.dtype == np.uint8
        assert labels.shape == (n,) and labels.dtype == np.int64
        np.testing.assert_array_equal(images, idx_images[:n])
        np.testing.assert_array_equal(labels, idx_labels[:n])


def test_csv_with_a_header_or_wrong_columns_is_a_clear_error(tmp_path):
    with_header = tmp_path / "header.csv"
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    with_header.write_text(header + "\n" + "5" + ",0" * 784 + "\n")
    with pytest.raises(ValueError, match="is not an MNIST CSV file"):
        read_mnist_csv(with_header)
    short = tmp_path / "short.csv"
    short.write_text("5,0,0,0\n")
    with pytest.raises(ValueError, match="expected 785 columns"):
        read_mnist_csv(short)


# --- where the data come from: data_dir > $MINIGRAD_DATA > cache ------------------------------

def _fake_root(root, layout="mnist"):
    """A data root with four (empty) MNIST files: find_mnist only looks for them."""
    folder = root / "mnist" if layout == "mnist" else root
    folder.mkdir(parents=True, exist_ok=True)
    for name in mnist.FILES:
        (folder / name).touch()
    return folder


@pytest.fixture
def no_mirrors(monkeypatch, closed_port):
    """Mirrors that refuse every connection: a test using this must not need to download."""
    monkeypatch.setattr(mnist, "MIRRORS", [f"http://127.0.0.1:{closed_port}/mnist/"])


def test_data_dir_comes_first(tmp_path, monkeypatch, no_mirrors):
    given = _fake_root(tmp_path / "given")
    env = _fake_root(tmp_path / "env")
    _fake_root(mnist.cache_dir())
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "env"))
    assert find_mnist(tmp_path / "given") == given
    assert find_mnist() == env                            # no data_dir: $MINIGRAD_DATA
    assert find_mnist(tmp_path / "empty") == env          # a data_dir without the files: fall through
    monkeypatch.delenv("MINIGRAD_DATA")
    assert find_mnist() == cache_folder()                 # neither: the user cache


def test_a_folder_holding_the_files_directly_is_accepted(tmp_path, no_mirrors):
    flat = _fake_root(tmp_path / "flat", layout="flat")
    assert find_mnist(flat) == flat


def test_partial_folder_is_not_taken(tmp_path, no_mirrors, monkeypatch):
    partial_folder = _fake_root(tmp_path / "partial")
    (partial_folder / "t10k-labels-idx1-ubyte.gz").unlink()
    monkeypatch.setenv("MINIGRAD_DATA", str(tmp_path / "partial"))
    with pytest.raises(MnistNotFoundError):
        find_mnist(download=False)


def test_cache_dir_follows_xdg_or_home(monkeypatch, tmp_path):
    assert mnist.cache_dir() == tmp_path / "xdg-cache" / "minigrad"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert mnist.cache_dir() == tmp_path / "home" / ".cache" / "minigrad"


def test_not_found_without_download_says_how_to_provide_the_data(tmp_path):
    with pytest.raises(MnistNotFoundError) as caught:
        find_mnist(tmp_path / "nowhere", download=False)
    message = str(caught.value)
    assert "Downloading is switched off" in message
    assert "--data-dir" in message and "MINIGRAD_DATA" in message and str(cache_folder()) in message
    assert str(tmp_path / "nowhere") in message


# --- downloading from (local) mirrors ----------------------------------------------------------

def test_download_into_an_empty_cache(server, monkeypatch, test_set):
    monkeypatch.setattr(mnist, "MIRRORS", [f"{server}/good/"])
    folder = find_mnist(progress=False)
    assert folder == cache_folder()
    assert files_in(folder) == sorted(mnist.FILES)        # the four files, and nothing else
    for name, spec in mnist.FILES.items():
        assert gzip.decompress((folder / name).read_bytes()).__len__() == spec.size
    dataset = MNIST(train=False, progress=False)          # loads from the cache, verified
    assert dataset.location == folder
    np.testing.assert_array_equal(dataset.labels, test_set[1])


def test_download_falls_back_to_the_next_mirror(server, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", [f"{server}/missing/", f"{server}/good/"])
    folder = find_mnist(progress=False)
    assert files_in(folder) == sorted(mnist.FILES)


def test_download_skips_a_mirror_with_a_corrupt_file(server, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", [f"{server}/truncated/", f"{server}/good/"])
    folder = find_mnist(progress=False)
    assert files_in(folder) == sorted(mnist.FILES)
    read_mnist_idx(folder, train=True)  # the good copy was kept: verifies


def test_truncated_download_leaves_nothing_and_says_why(server, monkeypatch):
    url = f"{server}/truncated/"
    monkeypatch.setattr(mnist, "MIRRORS", [url])
    with pytest.raises(MnistNotFoundError) as caught:
        find_mnist(progress=False)
    message = str(caught.value)
    spec = mnist.FILES["train-images-idx3-ubyte.gz"]
    assert url + spec.name in message and "does not decompress" in message
    assert spec.md5 in message and spec.gz_md5 in message      # what was expected
    assert files_in(cache_folder()) == []                       # no file, no .part


def test_wrong_content_download_is_not_kept(server, monkeypatch):
    monkeypatch.setattr(mnist, "MIRRORS", [f"{server}/wrong/"])
    with pytest.raises(MnistNotFoundError) as caught:
        find_mnist(progress=False)
    message = str(caught.value)
    spec = mnist.FILES["train-labels-idx1-ubyte.gz"]
    assert f"{server}/wrong/{spec.name}" in message and "checksum mismatch" in message
    assert f"expected md5 {spec.md5} (decompressed)" in message
    # train-images came first and was good, so it stays; the bad labels left nothing behind.
    assert files_in(cache_folder()) == ["train-images-idx3-ubyte.gz"]


def test_no_network_names_the_three_ways_and_the_mirrors(monkeypatch, closed_port, server):
    mirrors = [f"http://127.0.0.1:{closed_port}/mnist/", f"{server}/missing/"]
    monkeypatch.setattr(mnist, "MIRRORS", mirrors)
    with pytest.raises(MnistNotFoundError) as caught:
        MNIST(progress=False)
    message = str(caught.value)
    assert "--data-dir" in message and "MINIGRAD_DATA" in message
    assert str(cache_folder()) in message
    assert all(mirror in message for mirror in mirrors)
    assert "cannot connect" in message and "HTTP 404" in message
    assert files_in(cache_folder()) == []


def test_gz_md5_of_the_public_mirrors_is_accepted_without_decompressing(tmp_path, monkeypatch):
    # Pretend this (corrupt) .gz is the mirrors' file: its own md5 is then enough.
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(b"not even gzip")
    spec = mnist.FILES["t10k-labels-idx1-ubyte.gz"]
    with pytest.raises(ChecksumError):
        mnist._download_verifier(spec)(path)
    mnist._download_verifier(spec._replace(gz_md5=mnist.md5sum(path)))(path)  # no error


# --- the MNIST dataset ---------------------------------------------------------------------------

def test_dataset_scales(mnist_dir, test_set):
    images = test_set[0]
    zero_one = MNIST(mnist_dir.parent, train=False, scale="01")
    plus_minus = MNIST(mnist_dir.parent, train=False, scale="pm1")
    x, label = zero_one[0]
    assert x.dtype == np.float32 and x.shape == (784,) and label == 7 and isinstance(label, int)
    np.testing.assert_allclose(x.numpy(), images[0].reshape(784) / 255, rtol=1e-6)
    y, _ = plus_minus[0]
    np.testing.assert_allclose(y.numpy(), images[0].reshape(784) / 127.5 - 1, rtol=1e-6, atol=1e-7)
    batch, _ = plus_minus.__getitems__(np.arange(100))
    assert batch.numpy().min() == -1.0 and batch.numpy().max() == 1.0   # exactly, not 1.0000001
    batch, _ = zero_one.__getitems__(np.arange(100))
    assert batch.numpy().min() == 0.0 and batch.numpy().max() == 1.0


def test_dataset_shapes_and_one_hot(mnist_dir, test_set):
    dataset = MNIST(mnist_dir, train=False, flatten=False, one_hot=True)  # the folder itself also works
    image, target = dataset[1]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    assert target.dtype == np.float32 and target.tolist() == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]  # a 2
    images, targets = dataset.__getitems__([0, 1, 2])
    assert images.shape == (3, 1, 28, 28) and targets.shape == (3, 10)
    assert targets.numpy().argmax(axis=1).tolist() == test_set[1][:3].tolist()


def test_raw_arrays_are_exposed(test_dataset, test_set):
    assert len(test_dataset) == 10000
    assert test_dataset.images.dtype == np.uint8 and test_dataset.images.shape == (10000, 28, 28)
    assert not test_dataset.images.flags.writeable   # shared with the file's bytes: read-only
    np.testing.assert_array_equal(test_dataset.labels, test_set[1])


def test_training_set_length(mnist_dir):
    dataset = MNIST(mnist_dir.parent, train=True, scale="pm1")
    assert len(dataset) == 60000 and dataset[59999][1] == 8   # the last training label


@pytest.mark.parametrize("flatten", [True, False])
@pytest.mark.parametrize("one_hot", [True, False])
def test_getitems_equals_stacking_getitem(test_dataset, flatten, one_hot):
    test_dataset.flatten, test_dataset.one_hot = flatten, one_hot
    try:
        indices = [5, 0, 9999, -1, 5]
        images, targets = test_dataset.__getitems__(indices)
        samples = [test_dataset[i] for i in indices]
        np.testing.assert_array_equal(images.numpy(), np.stack([s[0].numpy() for s in samples]))
        expected = [s[1].numpy() if one_hot else s[1] for s in samples]
        np.testing.assert_array_equal(targets.numpy(), np.stack(expected))
        assert targets.dtype == (np.float32 if one_hot else np.int64)
    finally:
        test_dataset.flatten, test_dataset.one_hot = True, False


def test_index_out_of_range(test_dataset):
    with pytest.raises(IndexError):
        test_dataset[10000]


def test_bad_arguments():
    with pytest.raises(ValueError, match="scale"):
        MNIST(scale="0-1")
    with pytest.raises(ValueError, match="needs csv_path"):
        MNIST(source="csv")
    with pytest.raises(ValueError, match="source"):
        MNIST(source="parquet", download=False)


def test_dataset_with_dataloader(test_dataset, test_set):
    loader = mg.data.DataLoader(test_dataset, batch_size=64, shuffle=True, seed=0)
    assert len(loader) == 157  # ceil(10000 / 64)
    counts = np.zeros(10, dtype=np.int64)
    for images, labels in loader:
        assert images.dtype == np.float32 and labels.dtype == np.int64
        assert images.shape[1:] == (784,) and len(images) == len(labels) <= 64
        counts += np.bincount(labels.numpy(), minlength=10)
    assert counts.tolist() == TEST_COUNTS   # every image exactly once per epoch
    images, labels = next(iter(mg.data.DataLoader(test_dataset, batch_size=4)))
    assert labels.tolist() == test_set[1][:4].tolist()


def test_dataset_from_csv(csv_dir, train_set):
    dataset = MNIST(csv_path=csv_dir / "mnist_train_100.csv", scale="pm1")
    assert dataset.source == "csv" and len(dataset) == 100
    np.testing.assert_array_equal(dataset.images, train_set[0][:100])
    image, label = dataset[0]
    assert label == 5
    np.testing.assert_allclose(image.numpy(), train_set[0][0].reshape(784) / 127.5 - 1, atol=1e-7)


# --- the book's MnistDataset ---------------------------------------------------------------

def test_book_dataset(csv_dir, train_set):
    book = BookMnistDataset(csv_dir / "mnist_train_100.csv")
    assert len(book) == 100
    label, image_values, target = book[0]
    assert label == 5 and isinstance(label, int)
    assert image_values.shape == (784,) and image_values.dtype == np.float32
    np.testing.assert_allclose(image_values.numpy(), train_set[0][0].reshape(784) / 255.0, rtol=1e-6)
    assert target.dtype == np.float32 and target.tolist() == [0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert [book[i][0] for i in range(10)] == train_set[1][:10].tolist()


def test_book_dataset_plot_image(csv_dir):
    book = BookMnistDataset(csv_dir / "mnist_test_10.csv")
    plt.figure()
    try:
        picture = book.plot_image(0)
        assert plt.gca().get_title() == "label = 7"
        np.testing.assert_array_equal(picture.get_array(), book.images[0])
        assert picture.get_cmap().name == "Blues"
    finally:
        plt.close("all")


def test_a_missing_test_file_does_not_send_the_training_set_to_the_mirrors(mnist_dir, tmp_path, no_mirrors):
    root = tmp_path / "data"
    (root / "mnist").mkdir(parents=True)
    for name in (*mnist.TRAIN_FILES, "t10k-images-idx3-ubyte.gz"):  # t10k-labels is missing
        (root / "mnist" / name).symlink_to(mnist_dir / name)
    train = MNIST(root, train=True, progress=False)                 # no download needed, none tried
    assert len(train) == 60000 and train.location == root / "mnist"
    with pytest.raises(MnistNotFoundError) as caught:               # the test set: only the missing
        MNIST(root, train=False, progress=False)                     # file is downloaded
    assert "could not download t10k-labels" in str(caught.value)
    assert "could not download t10k-images" not in str(caught.value)
    assert not (cache_folder() / "train-images-idx3-ubyte.gz").exists()
