"""gans.data.pairs: (edges -> photo) and (greyscale -> colour) pairs of faces, the held-out rule,
and CycleGAN's unpaired piles.

Most tests use 24 small synthetic faces (a coloured square on a coloured ground, different for
every face) written as PNGs, so that every pixel is known; the real faces come from
shared_data/celeba/img_align_celeba_558.zip, and those tests skip without it.
"""

import numpy as np
import pytest
from PIL import Image

from gans.data import pairs
from gans.data.celeba import CelebADataset, build_hdf5
from gans.data.pairs import FacePairs, UnpairedFaces, split_sizes
from gans.errors import UserError

HEIGHT, WIDTH = 218, 178


def synthetic_face(k):
    """Face k: ground colour and square position both depend on k, so no two faces are alike."""
    image = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    image[:] = (10 * k, 200 - 5 * k, 90)
    top, left = 70 + k, 50 + 2 * k
    image[top:top + 40, left:left + 50] = (250, 250 - 3 * k, 20 + 4 * k)
    return image


@pytest.fixture(scope="module")
def synthetic_h5(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces")
    for k in range(24):
        Image.fromarray(synthetic_face(k)).save(folder / f"{k + 1:06d}.png")
    out = folder.parent / "synthetic.h5"
    build_hdf5(folder, out, progress=False)
    return out


@pytest.fixture(scope="module")
def real_h5(shared_data, tmp_path_factory):
    source = shared_data / "celeba" / "img_align_celeba_558.zip"
    if not source.is_file():
        pytest.skip(f"{source} not found")
    out = tmp_path_factory.mktemp("celeba") / "celeba558.h5"
    build_hdf5(source, out, progress=False)
    return out


def as_uint8(target):
    """A target tensor (3, 64, 64) in [-1, 1] back to the uint8 photo (64, 64, 3) it was made from."""
    return np.round((target.numpy().transpose(1, 2, 0) + 1) * 127.5).astype(np.uint8)


# --- the held-out rule ---------------------------------------------------------------------

@pytest.mark.parametrize("count, expected", [(558, (500, 58)), (202_599, (182_330, 20_269)),
                                             (20_000, (18_000, 2_000)), (24, (20, 4)), (20, (10, 10)), (12, (10, 2))])
def test_split_sizes_keep_the_first_90_percent_rounded_down_to_tens(count, expected):
    assert split_sizes(count) == expected


def test_too_few_faces_to_hold_out_is_a_user_error(tmp_path):
    for k in range(11):
        Image.fromarray(synthetic_face(k)).save(tmp_path / f"{k:06d}.png")
    build_hdf5(tmp_path, tmp_path / "small.h5", progress=False)
    with pytest.raises(UserError, match="too few"):
        FacePairs(tmp_path / "small.h5")


def test_the_held_out_faces_are_the_last_ones_and_never_in_training(synthetic_h5):
    train, held_out = FacePairs(synthetic_h5), FacePairs(synthetic_h5, split="held_out")
    assert (len(train), len(held_out)) == (20, 4)
    train_names = {train.name_of(i) for i in range(len(train))}
    held_names = [held_out.name_of(i) for i in range(len(held_out))]
    assert held_names == ["000021.png", "000022.png", "000023.png", "000024.png"]
    assert train_names.isdisjoint(held_names)
    # and by content: no training target is a held-out photo
    held_photos = held_out.photos(range(len(held_out)))
    for photo in train.photos(range(len(train))):
        assert not any(np.array_equal(photo, held) for held in held_photos)


def test_real_faces_hold_out_the_last_58(real_h5):
    train, held_out = FacePairs(real_h5), FacePairs(real_h5, split="held_out")
    assert (len(train), len(held_out)) == (500, 58)
    assert held_out.name_of(0) == "img_align_celeba/000501.jpg"
    assert held_out.name_of(57) == "img_align_celeba/000558.jpg"
    assert train.name_of(499) == "img_align_celeba/000500.jpg"
    assert {train.name_of(i) for i in range(500)}.isdisjoint(held_out.name_of(i) for i in range(58))


# --- the pairs ----------------------------------------------------------------------------

def test_the_target_is_the_centre_crop_halved_by_2x2_means(synthetic_h5):
    pairs_ = FacePairs(synthetic_h5)
    crop = synthetic_face(3)[45:45 + 128, 25:25 + 128].astype(np.float64)
    expected = crop.reshape(64, 2, 64, 2, 3).mean(axis=(1, 3))
    _, target = pairs_[3]
    assert np.abs(as_uint8(target).astype(np.float64) - expected).max() <= 1  # Pillow rounds its means


@pytest.mark.parametrize("split", ["train", "held_out"])
def test_the_edges_are_canny_of_the_target_in_greyscale(synthetic_h5, split):
    from skimage.color import rgb2gray
    from skimage.feature import canny
    pairs_ = FacePairs(synthetic_h5, split=split)
    for index in range(len(pairs_)):
        inputs, target = pairs_[index]
        expected = np.where(canny(rgb2gray(as_uint8(target)), sigma=pairs.EDGE_SIGMA), -1.0, 1.0)
        np.testing.assert_array_equal(inputs.numpy()[0], expected)
    # the square's outline is found: a face has edges, and they sit where the square's sides are
    inputs, _ = pairs_[0]
    assert (inputs.numpy() == -1).sum() > 50


def test_the_grey_input_is_the_targets_luminance(synthetic_h5):
    from skimage.color import rgb2gray
    inputs, target = FacePairs(synthetic_h5, task="grey")[5]
    np.testing.assert_allclose(inputs.numpy()[0], rgb2gray(as_uint8(target)) * 2 - 1, atol=1e-6)


@pytest.mark.parametrize("task", ["edges", "grey"])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_ranges_and_dtype(synthetic_h5, task, channels):
    inputs, targets = FacePairs(synthetic_h5, task=task, input_channels=channels).__getitems__([4, 0, 4])
    assert inputs.shape == (3, channels, 64, 64) and targets.shape == (3, 3, 64, 64)
    for batch in (inputs, targets):
        values = batch.numpy()
        assert values.dtype == np.float32 and values.min() >= -1 and values.max() <= 1
    np.testing.assert_array_equal(inputs.numpy()[0], inputs.numpy()[2])  # repeats allowed
    if channels == 3:
        np.testing.assert_array_equal(inputs.numpy()[:, 0], inputs.numpy()[:, 2])


def test_real_pairs_shapes_ranges_and_pairing(real_h5):
    from skimage.color import rgb2gray
    from skimage.feature import canny
    held_out = FacePairs(real_h5, split="held_out")
    inputs, targets = held_out.__getitems__([0, 57])
    assert inputs.shape == (2, 1, 64, 64) and targets.shape == (2, 3, 64, 64)
    assert targets.numpy().min() >= -1 and targets.numpy().max() <= 1
    assert set(np.unique(inputs.numpy())) == {-1.0, 1.0}
    for edge_map, target in zip(inputs, targets):
        expected = np.where(canny(rgb2gray(as_uint8(target)), sigma=pairs.EDGE_SIGMA), -1.0, 1.0)
        np.testing.assert_array_equal(edge_map.numpy()[0], expected)
    edge_share = float((inputs.numpy() == -1).mean())
    assert 0.03 < edge_share < 0.3  # sketches, neither blank nor black


def test_bad_arguments_are_user_errors(synthetic_h5):
    with pytest.raises(UserError, match="task"):
        FacePairs(synthetic_h5, task="depth")
    with pytest.raises(UserError, match="split"):
        FacePairs(synthetic_h5, split="test")
    with pytest.raises(UserError, match="crop=128"):
        FacePairs(CelebADataset(synthetic_h5, crop=64))


# --- the unpaired piles ---------------------------------------------------------------------

def test_unpaired_piles_are_independent_permutations_fixed_by_the_seed(synthetic_h5):
    a, b, c = (UnpairedFaces(synthetic_h5, seed=seed) for seed in (0, 0, 1))
    np.testing.assert_array_equal(a.input_order, b.input_order)
    np.testing.assert_array_equal(a.target_order, b.target_order)
    assert not np.array_equal(a.input_order, c.input_order)
    for order in (a.input_order, a.target_order):
        assert sorted(order) == list(range(20))  # every training face once, in each pile
    assert not np.array_equal(a.input_order, a.target_order)  # most inputs meet another face's photo
    assert (a.input_order != a.target_order).mean() > 0.5


def test_unpaired_keeps_the_pairing_for_evaluation(synthetic_h5):
    unpaired, paired = UnpairedFaces(synthetic_h5, input_channels=1), FacePairs(synthetic_h5)
    indices = [0, 7, 19]
    inputs, photos = unpaired.__getitems__(indices)
    true_photos = unpaired.true_targets(indices)
    for row, index in enumerate(indices):
        input_face, photo_face = unpaired.faces_of(index)
        paired_input, paired_photo = paired[input_face]
        np.testing.assert_array_equal(inputs.numpy()[row], paired_input.numpy())
        np.testing.assert_array_equal(true_photos.numpy()[row], paired_photo.numpy())
        np.testing.assert_array_equal(photos.numpy()[row], paired[photo_face][1].numpy())


def test_unpaired_real_faces(real_h5):
    unpaired = UnpairedFaces(real_h5, seed=3)
    edges_, photos = unpaired.__getitems__([0, 1, 2, 3])
    assert edges_.shape == (4, 3, 64, 64) and photos.shape == (4, 3, 64, 64)
    assert len(unpaired) == 500
