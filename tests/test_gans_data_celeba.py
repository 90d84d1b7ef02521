"""gans.data.celeba: building the CelebA HDF5 file, and reading it (and the book's) lazily.

Real faces come from shared_data/celeba/img_align_celeba_558.zip (tests that need it skip when
it is absent); everything else uses small images made here, as PNGs so their pixels are exact.
"""

import argparse
import io
import signal
import zipfile

import h5py
import numpy as np
import pytest
from PIL import Image

import minigrad as mg
from gans.data import celeba
from gans.data.celeba import (BOOK_GROUP, IMAGES, NAMES, BuildReport, CelebADataset, CelebAError,
                              add_cli_arguments, build_hdf5, crop_centre, run_cli)

HEIGHT, WIDTH = 218, 178


# --- material ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def celeba_zip(shared_data):
    path = shared_data / "celeba" / "img_align_celeba_558.zip"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    return path


@pytest.fixture(scope="module")
def real_jpegs(celeba_zip):
    """The first six JPEGs of the real zip: {member name: bytes}."""
    with zipfile.ZipFile(celeba_zip) as archive:
        names = sorted(n for n in archive.namelist() if n.endswith(".jpg"))[:6]
        return {name: archive.read(name) for name in names}


def decode_with_pillow(data):
    """What the build must store: Pillow's own decoding of the JPEG, (218, 178, 3) uint8."""
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def position_image(blue):
    """A 218x178 image whose red is the row and green the column, so a crop shows its offsets."""
    rows, cols = np.meshgrid(np.arange(HEIGHT), np.arange(WIDTH), indexing="ij")
    return np.stack([rows, cols, np.full_like(rows, blue)], axis=-1).astype(np.uint8)


def png_bytes(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(height, width):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 100, 50)).save(buffer, format="JPEG")
    return buffer.getvalue()


def write_zip(path, members):
    """A zip holding {name: bytes}, written in the given (not sorted) order."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


SYNTHETIC = [position_image(blue) for blue in (0, 255, 7, 80, 160, 33)]


@pytest.fixture(scope="module")
def synthetic_h5(tmp_path_factory):
    """A stacked file of the six SYNTHETIC images, built from a folder of PNGs."""
    folder = tmp_path_factory.mktemp("synthetic")
    (folder / "faces").mkdir()
    for k, image in enumerate(SYNTHETIC):
        (folder / "faces" / f"{k + 1:06d}.png").write_bytes(png_bytes(image))
    out = folder / "synthetic.h5"
    build_hdf5(folder / "faces", out, progress=False)
    return out


@pytest.fixture
def book_h5(tmp_path):
    """A tiny file in the book's layout: group img_align_celeba of '0.jpg' ... '11.jpg'."""
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(12, HEIGHT, WIDTH, 3), dtype=np.uint8)
    path = tmp_path / "celeba_aligned_small.h5py"
    with h5py.File(path, "w") as file:
        for k, image in enumerate(images):
            file.create_dataset(f"{BOOK_GROUP}/{k}.jpg", data=image, compression="gzip")
    return path, images


# --- building: the round trip ----------------------------------------------------------------

def test_build_round_trip_matches_pillow(celeba_zip, real_jpegs, tmp_path):
    out = tmp_path / "celeba.h5"
    report = build_hdf5(celeba_zip, out, limit=6, progress=False)

    assert isinstance(report, BuildReport)
    assert (report.count, report.skipped_count, report.out) == (6, 0, out)
    with h5py.File(out, "r") as file:
        images = file[IMAGES]
        assert images.shape == (6, HEIGHT, WIDTH, 3) and images.dtype == np.uint8
        assert images.chunks == (1, HEIGHT, WIDTH, 3)
        assert images.compression == "gzip"
        names = [name.decode() for name in file[NAMES][:]]
        assert names == list(real_jpegs)     # the first six, in sorted order
        for k, data in enumerate(real_jpegs.values()):
            np.testing.assert_array_equal(images[k], decode_with_pillow(data))
        assert dict(file.attrs) == {"layout": "celeba-stacked", "layout_version": 1,
                                    "source": "img_align_celeba_558.zip", "count": 6, "skipped": 0}

    with CelebADataset(out, scale=None) as faces:
        assert len(faces) == 6 and faces.layout == "stacked"
        assert faces.name_of(0) == "img_align_celeba/000001.jpg"
        np.testing.assert_array_equal(faces[5].numpy(), decode_with_pillow(real_jpegs[faces.name_of(5)]))


def test_folder_of_jpegs_gives_the_same_file_as_the_zip(celeba_zip, real_jpegs, tmp_path):
    folder = tmp_path / "extracted"
    for name, data in real_jpegs.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)

    from_folder = build_hdf5(folder, tmp_path / "folder.h5", progress=False)
    build_hdf5(celeba_zip, tmp_path / "zip.h5", limit=6, progress=False)

    assert from_folder.count == 6
    with h5py.File(tmp_path / "folder.h5", "r") as a, h5py.File(tmp_path / "zip.h5", "r") as b:
        np.testing.assert_array_equal(a[IMAGES][:], b[IMAGES][:])
        np.testing.assert_array_equal(a[NAMES][:], b[NAMES][:])   # relative paths, as in the zip
        assert a.attrs["source"] == "extracted"


# --- building: bad input -------------------------------------------------------------------------

def test_corrupt_non_image_and_wrong_size_members_are_skipped_and_counted(real_jpegs, tmp_path):
    jpegs = list(real_jpegs.values())
    source = write_zip(tmp_path / "mixed.zip", {
        "img_align_celeba/": b"",                                 # a folder entry: not a file at all
        "img_align_celeba/000003.jpg": jpegs[2],
        "img_align_celeba/000099.jpg": b"this is not a JPEG",
        "img_align_celeba/000001.jpg": jpegs[0],
        "img_align_celeba/000050.jpg": jpegs[3][:len(jpegs[3]) // 2],  # truncated
        "img_align_celeba/000100.jpg": jpeg_bytes(80, 100),             # a valid JPEG, wrong size
        "img_align_celeba/000002.jpg": jpegs[1],
        "list_eval_partition.txt": b"000001.jpg 0\n",
    })
    report = build_hdf5(source, tmp_path / "out.h5", progress=False)

    assert report.count == 3
    skipped = dict(report.skipped)
    assert sorted(skipped) == ["img_align_celeba/000050.jpg", "img_align_celeba/000099.jpg",
                               "img_align_celeba/000100.jpg", "list_eval_partition.txt"]
    assert report.skipped_count == 4
    assert "not a readable image" in skipped["img_align_celeba/000099.jpg"]
    assert "100x80, not 178x218" in skipped["img_align_celeba/000100.jpg"]
    with CelebADataset(tmp_path / "out.h5", scale=None) as faces:
        assert [faces.name_of(i) for i in range(3)] == [f"img_align_celeba/00000{k}.jpg" for k in (1, 2, 3)]
        np.testing.assert_array_equal(faces[1].numpy(), decode_with_pillow(jpegs[1]))
        assert (faces.attrs["count"], faces.attrs["skipped"]) == (3, 4)


def test_limit_counts_images_written_not_members_read(tmp_path):
    source = write_zip(tmp_path / "faces.zip", {
        "000001.png": b"garbage",
        **{f"00000{k}.png": png_bytes(SYNTHETIC[k]) for k in (2, 3, 4)},
    })
    report = build_hdf5(source, tmp_path / "out.h5", limit=2, progress=False)

    assert (report.count, report.skipped_count) == (2, 1)
    with h5py.File(tmp_path / "out.h5", "r") as file:
        assert file[NAMES][:].tolist() == [b"000002.png", b"000003.png"]
        assert file[IMAGES].shape[0] == 2


@pytest.mark.parametrize("interruption", [KeyboardInterrupt, RuntimeError])
def test_interrupted_build_leaves_no_file_and_no_temporary(interruption, monkeypatch, tmp_path):
    source = write_zip(tmp_path / "faces.zip", {f"{k:06d}.png": png_bytes(image) for k, image in enumerate(SYNTHETIC)})
    out_folder = tmp_path / "out"
    out_folder.mkdir()
    out = out_folder / "celeba.h5"
    decode = celeba._decode_image
    calls = []

    def decode_then_fail(data):
        calls.append(1)
        if len(calls) == 4:
            raise interruption("stopped half-way")
        return decode(data)
    monkeypatch.setattr(celeba, "_decode_image", decode_then_fail)

    with pytest.raises(interruption):
        build_hdf5(source, out, progress=False)
    assert list(out_folder.iterdir()) == []

    out.write_bytes(b"an earlier build")             # a previous file is left as it was
    calls.clear()
    with pytest.raises(interruption):
        build_hdf5(source, out, progress=False)
    assert list(out_folder.iterdir()) == [out] and out.read_bytes() == b"an earlier build"


def test_ctrl_c_is_not_lost_inside_a_callback(monkeypatch, tmp_path):
    """Ctrl-C often lands inside one of h5py's weakref callbacks, where Python prints and drops
    a KeyboardInterrupt. Simulate that with a __del__: the build must still stop, and write nothing."""
    if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        pytest.skip("SIGINT is handled by someone else in this process")
    source = write_zip(tmp_path / "faces.zip", {f"{k:06d}.png": png_bytes(image) for k, image in enumerate(SYNTHETIC)})
    decode = celeba._decode_image

    class PressesCtrlCWhenCollected:
        def __del__(self):
            signal.raise_signal(signal.SIGINT)

    def decode_and_press_ctrl_c(data):
        if decode_and_press_ctrl_c.calls == 2:
            PressesCtrlCWhenCollected()           # collected at once, so its __del__ runs here
        decode_and_press_ctrl_c.calls += 1
        return decode(data)
    decode_and_press_ctrl_c.calls = 0
    monkeypatch.setattr(celeba, "_decode_image", decode_and_press_ctrl_c)

    with pytest.raises(KeyboardInterrupt):
        build_hdf5(source, tmp_path / "out.h5", progress=False)
    assert decode_and_press_ctrl_c.calls == 3        # it stopped at the next image
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faces.zip"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("case", ["missing", "not a zip", "truncated"])
def test_unreadable_zip_is_a_clear_error_naming_the_file(case, tmp_path):
    path = tmp_path / "img_align_celeba.zip"
    if case == "not a zip":
        path.write_text("<html>404 Not Found</html>")
    elif case == "truncated":
        write_zip(path, {f"{k:06d}.png": png_bytes(image) for k, image in enumerate(SYNTHETIC)})
        path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])

    with pytest.raises(CelebAError, match="img_align_celeba.zip") as error:
        build_hdf5(path, tmp_path / "out.h5", progress=False)
    expected = "no such file" if case == "missing" else "not a zip file"
    assert expected in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / "out.h5").exists()


def test_a_source_without_usable_images_is_an_error(tmp_path):
    source = write_zip(tmp_path / "junk.zip", {"a.jpg": b"junk", "b.txt": b"text"})
    with pytest.raises(CelebAError, match="all 2 files were skipped"):
        build_hdf5(source, tmp_path / "out.h5", progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.zip"]


# --- the command line --------------------------------------------------------------------------

def parse(argv):
    return add_cli_arguments(argparse.ArgumentParser()).parse_args(argv)


def test_cli_prints_count_and_skipped(tmp_path, capsys):
    source = write_zip(tmp_path / "faces.zip", {"000001.png": png_bytes(SYNTHETIC[0]), "000002.jpg": b"bad"})
    out = tmp_path / "celeba.h5"

    code = run_cli(parse(["--zip", str(source), "--out", str(out), "--limit", "5", "--no-progress"]))

    printed = capsys.readouterr().out
    assert code == 0 and out.is_file()
    assert "wrote 1 images" in printed and "skipped 1" in printed and "000002.jpg" in printed


def test_cli_error_is_one_line_without_traceback(tmp_path, capsys):
    code = run_cli(parse(["--zip", str(tmp_path / "nowhere.zip"), "--out", str(tmp_path / "x.h5")]))

    errors = capsys.readouterr().err.strip()
    assert code != 0
    assert errors.startswith("error:") and "nowhere.zip" in errors
    assert "\n" not in errors and "Traceback" not in errors


# --- reading: layouts --------------------------------------------------------------------------

def test_reads_the_books_layout(book_h5):
    path, images = book_h5
    with CelebADataset(path, crop=128) as faces:
        assert faces.layout == "book" and len(faces) == 12
        # By number, not by text: '10.jpg' is image 10, as the book's str(index) + '.jpg'.
        assert faces.name_of(10) == "10.jpg" and faces.name_of(2) == "2.jpg"
        expected = crop_centre(images[10], 128, 128).astype(np.float32) / 255
        np.testing.assert_allclose(faces[10].numpy(), expected)
        batch = faces.__getitems__([11, 2, 2])
        assert batch.shape == (3, 128, 128, 3)
        np.testing.assert_allclose(batch.numpy()[1], crop_centre(images[2], 128, 128) / 255, rtol=1e-6)
        assert len(list(faces)) == 12         # the book's `for image in dataset` stops at IndexError


def test_wrong_layout_names_both_layouts_and_what_was_found(tmp_path, synthetic_h5, book_h5):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as file:
        file["pixels"] = np.zeros((10, 3))

    with pytest.raises(CelebAError) as error:
        CelebADataset(path)
    message = str(error.value)
    assert "'images'" in message and "'img_align_celeba'" in message     # what was expected
    assert "dataset 'pixels' (10, 3) float64" in message                  # what was found

    with pytest.raises(CelebAError, match="in the 'book' layout"):
        CelebADataset(synthetic_h5, layout="book")
    with pytest.raises(CelebAError, match="group 'img_align_celeba' of 12"):
        CelebADataset(book_h5[0], layout="stacked")


def test_a_file_that_is_not_hdf5_is_a_clear_error(tmp_path):
    path = tmp_path / "celeba.h5"
    path.write_text("not HDF5")
    with pytest.raises(CelebAError, match="not an HDF5 file"):
        CelebADataset(path)
    with pytest.raises(CelebAError, match="no such file"):
        CelebADataset(tmp_path / "absent.h5")


# --- reading: crop, scale, layout of the tensor -----------------------------------------------

def test_crop_centre_uses_the_books_offsets():
    image = position_image(0)
    crop = crop_centre(image, 128, 128)

    assert crop.shape == (128, 128, 3)
    # top = 218//2 - 128//2 = 45, left = 178//2 - 128//2 = 25
    assert tuple(crop[0, 0, :2]) == (45, 25)
    assert tuple(crop[-1, -1, :2]) == (45 + 127, 25 + 127)

    small = np.arange(7 * 5).reshape(7, 5, 1)           # odd sizes round down: top 3-1, left 2-1
    np.testing.assert_array_equal(crop_centre(small, 3, 3), small[2:5, 1:4])
    np.testing.assert_array_equal(crop_centre(small, 2, 4), small[1:5, 1:3])
    even = np.arange(6 * 4).reshape(6, 4, 1)            # even side, odd crop: 6//2 - 3//2 = 2, not (6-3)//2
    np.testing.assert_array_equal(crop_centre(even, 3, 3), even[2:5, 1:4])
    with pytest.raises(ValueError, match="cannot crop"):
        crop_centre(small, 6, 3)


def test_dataset_crop_matches_crop_centre(synthetic_h5):
    with CelebADataset(synthetic_h5, crop=128, scale=None) as faces:
        assert faces[0].shape == (128, 128, 3)
        np.testing.assert_array_equal(faces[0].numpy(), crop_centre(SYNTHETIC[0], 128, 128))
    with CelebADataset(synthetic_h5, crop=(100, 64), scale=None) as faces:
        assert tuple(faces[3].numpy()[0, 0, :2]) == (109 - 50, 89 - 32)


@pytest.mark.parametrize("scale, low, high", [("01", 0.0, 1.0), ("pm1", -1.0, 1.0)])
def test_scaling_ranges(synthetic_h5, scale, low, high):
    with CelebADataset(synthetic_h5, scale=scale) as faces:
        batch = faces[:].numpy()          # image 0 has blue 0, image 1 blue 255
    assert batch.dtype == np.float32 and batch.shape == (6, HEIGHT, WIDTH, 3)
    assert batch.min() == low and batch.max() == high
    raw = np.stack(SYNTHETIC).astype(np.float64)
    expected = raw / 255 if scale == "01" else raw / 127.5 - 1
    np.testing.assert_allclose(batch, expected, atol=1e-6)


def test_no_scale_gives_the_stored_uint8_pixels(synthetic_h5):
    with CelebADataset(synthetic_h5, scale=None) as faces:
        image = faces[4]
    assert image.dtype == np.uint8
    np.testing.assert_array_equal(image.numpy(), SYNTHETIC[4])


def test_channels_first(synthetic_h5):
    with CelebADataset(synthetic_h5, crop=128, channels_first=True) as faces, \
            CelebADataset(synthetic_h5, crop=128) as last:
        assert faces[2].shape == (3, 128, 128)
        np.testing.assert_array_equal(faces[2].numpy(), np.moveaxis(last[2].numpy(), -1, 0))
        assert faces.__getitems__([0, 1]).shape == (2, 3, 128, 128)


# --- reading: batches, indexing, DataLoader --------------------------------------------------

def test_getitems_takes_any_order_and_repeats(synthetic_h5):
    with CelebADataset(synthetic_h5, scale=None) as faces:
        batch = faces.__getitems__(np.array([4, 1, 4, 0, -1]))
        assert batch.shape == (5, HEIGHT, WIDTH, 3)
        np.testing.assert_array_equal(batch.numpy(), np.stack([SYNTHETIC[k] for k in (4, 1, 4, 0, 5)]))
        assert faces.__getitems__([]).shape == (0, HEIGHT, WIDTH, 3)
        with pytest.raises(IndexError):
            faces[6]
        with pytest.raises(IndexError):
            faces.__getitems__([0, 7])


def test_works_with_the_dataloader(synthetic_h5):
    with CelebADataset(synthetic_h5, crop=128, channels_first=True) as faces:
        batches = list(mg.data.DataLoader(faces, batch_size=4, shuffle=True, seed=0))
        assert [b.shape for b in batches] == [(4, 3, 128, 128), (2, 3, 128, 128)]
        # Every image once: their blue channels (index 2, channels first) tell them apart.
        blues = sorted(round(float(b[2, 0, 0]) * 255) for batch in batches for b in batch.numpy())
        assert blues == sorted([0, 255, 7, 80, 160, 33])


def test_lazy_reading_touches_only_the_chunk_it_needs(synthetic_h5, tmp_path):
    """Damage every stored image except number 3 on disk: a reader that loads the whole file (or
    more than the one image asked for) fails; a lazy one still returns image 3."""
    damaged = tmp_path / "damaged.h5"
    damaged.write_bytes(synthetic_h5.read_bytes())
    with h5py.File(damaged, "r") as file:
        chunks = [file[IMAGES].id.get_chunk_info_by_coord((k, 0, 0, 0)) for k in range(6)]
    with open(damaged, "r+b") as raw:
        for k, chunk in enumerate(chunks):
            if k != 3:
                raw.seek(chunk.byte_offset)
                raw.write(b"\xff" * chunk.size)

    with CelebADataset(damaged, scale=None) as faces:
        np.testing.assert_array_equal(faces[3].numpy(), SYNTHETIC[3])
        np.testing.assert_array_equal(faces.__getitems__([3, 3]).numpy()[1], SYNTHETIC[3])
        with pytest.raises(OSError):              # the damage is real: image 2 cannot be read
            faces[2]


# --- showing, closing ----------------------------------------------------------------------------

def test_plot_image(synthetic_h5):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with CelebADataset(synthetic_h5, crop=128) as faces:
        ax = faces.plot_image(1)
    assert ax.images[0].get_array().shape == (128, 128, 3)
    assert ax.get_title() == "000002.png"
    plt.close(ax.figure)


def test_close_and_context_manager(synthetic_h5):
    with CelebADataset(synthetic_h5) as faces:
        assert faces[0].shape == (HEIGHT, WIDTH, 3)
    with pytest.raises(ValueError, match="closed"):
        faces[0]
    assert "closed" in repr(faces)
    faces.close()                                   # closing twice is fine


# --- the training's build cache ----------------------------------------------------------------

def test_the_build_cache_is_keyed_by_content_not_name_and_runs_report_skipped(tmp_path, monkeypatch, capsys):
    from gans.experiments import celeba_data
    from gans.registry import RunOptions

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("MINIGRAD_DATA", raising=False)
    small, large = tmp_path / "small" / "celeba", tmp_path / "large" / "celeba"
    small.mkdir(parents=True)
    large.mkdir(parents=True)
    write_zip(small / "img_align_celeba.zip", {"000001.png": png_bytes(SYNTHETIC[0])})
    write_zip(large / "img_align_celeba.zip", {"000001.png": png_bytes(SYNTHETIC[0]),
                                               "000002.png": png_bytes(SYNTHETIC[1]), "notes.txt": b"hello"})
    load = celeba_data()
    first = load(RunOptions(out=tmp_path / "run", data_dir=tmp_path / "small", progress=False))
    second = load(RunOptions(out=tmp_path / "run", data_dir=tmp_path / "large", progress=False))
    assert len(first) == 1 and len(second) == 2  # same file name, other content: its own build
    printed = capsys.readouterr().out
    assert "skipped notes.txt" in printed                           # when built ...
    load(RunOptions(out=tmp_path / "run", data_dir=tmp_path / "large", progress=False))
    assert "1 files of img_align_celeba.zip were skipped" in capsys.readouterr().out  # ... and when reused
    assert len(list((tmp_path / "cache" / "minigrad" / "celeba").glob("*.h5"))) == 2


# --- SIGTERM, non-images, images too small for the crop ------------------------------------------

def test_sigterm_stops_the_build_between_images_like_ctrl_c(monkeypatch, tmp_path, capsys):
    """Within the command line (sigterm_raises), SIGTERM stops the build at the next image: nothing
    is written, the handler is put back, and run_cli exits 143."""
    from gans.errors import Terminated, sigterm_raises

    if signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        pytest.skip("SIGTERM is handled by someone else in this process")
    source = write_zip(tmp_path / "faces.zip", {f"{k:06d}.png": png_bytes(image) for k, image in enumerate(SYNTHETIC)})
    decode = celeba._decode_image

    def decode_and_terminate(data):
        if decode_and_terminate.calls == 2:
            signal.raise_signal(signal.SIGTERM)
        decode_and_terminate.calls += 1
        return decode(data)
    decode_and_terminate.calls = 0
    monkeypatch.setattr(celeba, "_decode_image", decode_and_terminate)

    with sigterm_raises():
        with pytest.raises(Terminated):
            build_hdf5(source, tmp_path / "out.h5", progress=False)
        assert decode_and_terminate.calls == 3      # it stopped at the next image
        decode_and_terminate.calls = 0
        code = run_cli(parse(["--zip", str(source), "--out", str(tmp_path / "out.h5"), "--no-progress"]))
    assert code == 143 and "interrupted" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["faces.zip"]
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_zip_of_non_images_names_each_member_not_an_in_memory_stream(tmp_path):
    source = write_zip(tmp_path / "notes.zip", {"a.txt": b"hello", "b.csv": b"1,2", "c.md": b"# title"})
    with pytest.raises(CelebAError) as error:
        build_hdf5(source, tmp_path / "out.h5", progress=False)
    message = str(error.value)
    assert "BytesIO" not in message and " at 0x" not in message, message
    assert "\n" not in message and "a.txt" in message and "b.csv" in message and "c.md" in message
    assert message.count("not a readable image") == 1  # one reason for the three, not three copies


@pytest.fixture
def small_h5(tmp_path):
    """A stacked file of four 32x32 images."""
    path = tmp_path / "small.h5"
    with h5py.File(path, "w") as file:
        file.create_dataset(IMAGES, data=np.zeros((4, 32, 32, 3), np.uint8))
    return path


def test_images_smaller_than_the_crop_are_one_line_naming_the_size_needed(small_h5):
    with pytest.raises(CelebAError) as error:
        CelebADataset(small_h5, crop=128)
    message = str(error.value)
    assert "\n" not in message and "32x32" in message and "at least 128x128" in message and "small.h5" in message
    assert isinstance(error.value, ValueError)     # as crop_centre's error, for code that catches that
    with CelebADataset(small_h5, crop=16) as faces:  # a crop that fits is fine
        assert faces[0].shape == (16, 16, 3)


def test_a_book_layout_entry_that_is_not_an_image_is_a_clear_error(tmp_path):
    path = tmp_path / "book.h5py"
    with h5py.File(path, "w") as file:
        file.create_dataset(f"{BOOK_GROUP}/0.jpg", data=np.zeros(10, np.uint8))
    with pytest.raises(CelebAError, match="should be one image"):
        CelebADataset(path)
