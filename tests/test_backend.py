"""The backend: devices, the NumPy/CuPy switch, the array helpers that differ between them
(scatter_add), and NumPy/CuPy parity of a whole small network when a GPU is there."""

from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import backend

PACKAGE = Path(mg.__file__).resolve().parent
needs_gpu = pytest.mark.skipif(not mg.cuda.is_available(),
                               reason="CuPy with a GPU is not available on this machine")


@pytest.fixture
def default_device_restored():
    previous = mg.get_default_device()
    yield
    mg.set_default_device(previous)


# --- devices -------------------------------------------------------------------------

def test_is_available_is_a_bool():
    assert type(mg.cuda.is_available()) is bool
    assert mg.cuda.is_available() == backend.cuda_available()


def test_normalize_device_cpu():
    assert backend.normalize_device("cpu") == "cpu"
    assert backend.normalize_device("cpu:0") == "cpu"
    assert backend.normalize_device(None) == mg.get_default_device()


@pytest.mark.parametrize("name", ["tpu", "gpu", "mps", ""])
def test_normalize_device_unknown(name):
    with pytest.raises(ValueError, match=f"unknown device '{name}'"):
        backend.normalize_device(name)


@needs_gpu
def test_normalize_device_cuda():
    assert backend.normalize_device("cuda") == "cuda"
    assert backend.normalize_device("cuda:0") == "cuda"


@pytest.mark.skipif(mg.cuda.is_available(), reason="checks the message shown when there is no GPU")
@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_normalize_device_cuda_without_a_gpu(name):
    with pytest.raises(RuntimeError, match=r'CuPy.*pip install "minigrad\[gpu\]"'):
        backend.normalize_device(name)


def test_set_default_device_round_trip(device, default_device_restored):
    mg.set_default_device(device)
    assert mg.get_default_device() == device
    assert mg.zeros(2).device == device and mg.randn(2).device == device and mg.tensor([1.0]).device == device
    mg.set_default_device("cpu")
    assert mg.get_default_device() == "cpu" and mg.ones(1).device == "cpu"


def test_set_default_device_rejects_unknown_devices(default_device_restored):
    before = mg.get_default_device()
    with pytest.raises(ValueError):
        mg.set_default_device("tpu")
    assert mg.get_default_device() == before


def test_array_module(device):
    xp = backend.array_module(device)
    assert xp.__name__ == ("numpy" if device == "cpu" else "cupy")
    array = xp.zeros(2)
    assert backend.array_module(array) is xp
    assert backend.device_of(array) == device
    assert backend.is_array(array) and not backend.is_array([1.0]) and not backend.is_array(1.0)


def test_to_device_and_to_numpy(device):
    host = np.array([1.0, 2.0])
    moved = backend.to_device(host, device)
    assert backend.device_of(moved) == device
    assert backend.to_device(moved, device) is moved          # already there: no copy
    back = backend.to_numpy(moved)
    assert type(back) is np.ndarray
    np.testing.assert_array_equal(back, host)


def test_arrays_on_one_device_pass_unchanged(device):
    xp = backend.array_module(device)
    arrays = [xp.ones(2), xp.zeros(3)]
    assert backend.on_one_device(arrays, "Test") is arrays


@pytest.mark.skipif(not mg.cuda.is_available(), reason="needs a GPU (or the CuPy stand-in)")
def test_a_0_dim_cpu_tensor_beside_gpu_tensors_is_a_scalar_as_in_pytorch():
    """mg.tensor(2.0) (CPU) + x (GPU) works, on the GPU, and the CPU scalar's gradient stays on the CPU;
    a CPU tensor with dims beside a GPU one is refused, naming both."""
    x = mg.tensor([1.0, 2.0], device="cuda", requires_grad=True)
    scale = mg.tensor(3.0, requires_grad=True)
    y = x * scale
    assert y.device == "cuda" and y.tolist() == [3.0, 6.0]
    y.sum().backward()
    assert scale.grad.device == "cpu" and scale.grad.item() == 3.0
    assert x.grad.device == "cuda" and x.grad.tolist() == [3.0, 3.0]
    with pytest.raises(RuntimeError, match=r"expected all tensors on the same device, but found cuda \(shape \(2,\)\), "
                                           r"cpu \(shape \(2,\)\)"):
        x + mg.tensor([1.0, 1.0])


def test_only_backend_imports_cupy():
    offenders = [str(path.relative_to(PACKAGE)) for path in PACKAGE.rglob("*.py")
                 if path.name != "backend.py"
                 and ("import cupy" in path.read_text() or "from cupy" in path.read_text())]
    assert offenders == [], f"only minigrad/backend.py may import CuPy; also found in {offenders}"
    assert "import cupy" in (PACKAGE / "backend.py").read_text()


def test_memory_peak_without_a_gpu():
    if mg.cuda.is_available():
        assert mg.cuda.max_memory_allocated() >= 0
    else:
        assert backend.gpu_memory_peak() is None
        assert mg.cuda.max_memory_allocated() == 0


# --- other array helpers -----------------------------------------------------------------

def test_scatter_add_accumulates_repeated_indices(device):
    xp = backend.array_module(device)
    target = xp.zeros(4)
    backend.scatter_add(target, xp.asarray([0, 2, 0, 0, 3]), xp.asarray([1.0, 2.0, 3.0, 4.0, 5.0]))
    np.testing.assert_array_equal(backend.to_numpy(target), [8.0, 0.0, 2.0, 5.0])
    rows = xp.zeros((3, 2))
    backend.scatter_add(rows, xp.asarray([1, 1]), xp.ones((2, 2)))
    np.testing.assert_array_equal(backend.to_numpy(rows), [[0, 0], [2, 2], [0, 0]])


@pytest.mark.parametrize("memory_order", [(0, 1, 2), (0, 2, 1), (2, 1, 0)])
@pytest.mark.parametrize("dim", [0, 1, 2])
def test_scatter_add_along_one_dim_equals_np_add_at_bit_for_bit(dim, memory_order):
    """(:, ..., positions) keys (padding's and upsampling's backward) take the fast path, in rounds of
    first, second, ... occurrences; it adds in np.add.at's order, so the sums are the same bits,
    with repeats, negative positions, positions never read, a target that is not zero, and targets
    and values laid out in memory in another order than their axes (channels-last)."""
    rng = np.random.default_rng(dim)
    shape = (5, 6, 7)

    def laid_out(array):  # the same values, with the axes in memory in `memory_order`
        return np.ascontiguousarray(array.transpose(memory_order)).transpose(np.argsort(memory_order))

    positions = rng.integers(-shape[dim], shape[dim], size=3 * shape[dim])
    positions[:shape[dim]] = np.arange(shape[dim])  # every position read at least once ...
    key = (slice(None),) * dim + (positions,)
    values = laid_out(rng.standard_normal(shape[:dim] + (len(positions),) + shape[dim + 1:]).astype(np.float32))
    start = rng.standard_normal(shape).astype(np.float32)
    expected, got = start.copy(), laid_out(start)
    np.add.at(expected, key, values)
    backend.scatter_add(got, key, values)
    np.testing.assert_array_equal(got, expected)
    key = (slice(None),) * dim + (positions[shape[dim]:][:4],)  # ... or only some of them
    partial = values.take(range(4), axis=dim)
    np.add.at(expected, key, partial)
    backend.scatter_add(got, key, partial)
    np.testing.assert_array_equal(got, expected)


def test_scatter_add_along_one_dim_takes_the_fast_path_and_behaves_as_np_add_at(monkeypatch):
    """The (:, ..., positions) keys go through _add_along (not np.add.at), which broadcasts values
    and refuses out-of-range positions as np.add.at does."""
    calls = []
    add_along = backend._add_along
    monkeypatch.setattr(backend, "_add_along", lambda *args: calls.append(1) or add_along(*args))
    key = (slice(None), np.array([0, 0, 2]))
    for values in (2.0, np.arange(3.0), np.ones((2, 1))):
        expected, got = np.zeros((2, 3)), np.zeros((2, 3))
        np.add.at(expected, key, values)
        backend.scatter_add(got, key, values)
        np.testing.assert_array_equal(got, expected)
    assert len(calls) == 3
    for positions, outside in (([0, 1, 3], 3), ([-4, 0, 1], -4)):
        with pytest.raises(IndexError, match=f"index {outside} is out of bounds for axis 1 with size 3"):
            backend.scatter_add(np.zeros((2, 3)), (slice(None), np.array(positions)), np.ones((2, 3)))


def test_as_strided_is_a_read_only_view():
    array = np.arange(6.0)
    windows = backend.as_strided(array, (4, 3), (8, 8))
    np.testing.assert_array_equal(windows[1], [1.0, 2.0, 3.0])
    assert np.shares_memory(windows, array) and not windows.flags.writeable


def test_quiet_float_errors(device):
    xp = backend.array_module(device)
    x = xp.asarray([0.0, 1.0])
    with backend.quiet_float_errors(x):
        result = xp.log(x)                     # no RuntimeWarning (pytest turns minigrad's into errors)
    assert backend.to_numpy(result)[0] == -np.inf


# --- NumPy/CuPy parity -----------------------------------------------------------------------

def _small_networks(device, params):
    """An MLP and a small conv net, forward and backward, with parameters copied to `device`."""
    tensors = {name: mg.tensor(value, device=device, requires_grad=name.startswith("w"))
               for name, value in params.items()}
    F = mg.nn.functional
    t = tensors
    hidden = F.gelu(F.linear(t["x"], t["w1"], t["w1_bias"]))
    hidden = F.layer_norm(hidden, (6,), t["w_ln"], t["w_ln_bias"])
    mlp_loss = F.cross_entropy(F.linear(hidden.tanh(), t["w2"]), t["labels"])

    image = F.conv2d(t["images"], t["w_conv"], t["w_conv_bias"], padding=1)
    image = F.batch_norm(image, t["running_mean"], t["running_var"], training=True)
    image = F.max_pool2d(F.leaky_relu(image, 0.2), 2)
    image = F.conv_transpose2d(image, t["w_deconv"], stride=2, padding=1)
    image = F.avg_pool2d(image, 2)
    logits = image.flatten(1).sum(dim=1)
    conv_loss = F.binary_cross_entropy_with_logits(logits, t["targets"]) + F.mse_loss(image.sigmoid(), t["pixels"])
    loss = mlp_loss + conv_loss
    loss.backward()
    return loss, tensors


@needs_gpu
@pytest.mark.parametrize("device", ["cuda"])
def test_numpy_and_cupy_give_the_same_network(device):
    rng = np.random.default_rng(0)
    params = {
        "x": rng.standard_normal((5, 4)), "labels": rng.integers(0, 3, 5),
        "w1": rng.standard_normal((6, 4)), "w1_bias": rng.standard_normal(6),
        "w_ln": rng.standard_normal(6), "w_ln_bias": rng.standard_normal(6),
        "w2": rng.standard_normal((3, 6)),
        "images": rng.standard_normal((2, 1, 8, 8)), "w_conv": rng.standard_normal((3, 1, 3, 3)),
        "w_conv_bias": rng.standard_normal(3), "running_mean": np.zeros(3), "running_var": np.ones(3),
        "w_deconv": rng.standard_normal((3, 2, 4, 4)), "targets": rng.uniform(0, 1, 2),
        "pixels": rng.uniform(0, 1, (2, 2, 4, 4)),
    }
    cpu_loss, cpu = _small_networks("cpu", params)
    gpu_loss, gpu = _small_networks(device, params)
    assert gpu_loss.device == device
    np.testing.assert_allclose(gpu_loss.item(), cpu_loss.item(), rtol=1e-10)
    for name in params:
        np.testing.assert_allclose(gpu[name].numpy(), cpu[name].numpy(), rtol=1e-10, atol=1e-12, err_msg=name)
        if cpu[name].requires_grad:
            assert gpu[name].grad.device == device
            np.testing.assert_allclose(gpu[name].grad.numpy(), cpu[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"gradient of {name}")



def test_importing_minigrad_applies_the_host_memory_setting():
    """minigrad/memory.py runs keep_freed_memory() when imported; minigrad must import it (a lost
    import once made every batch-1 step 40% slower, unseen by any other test)."""
    import subprocess
    import sys
    code = ("import sys, minigrad; print('minigrad.memory' in sys.modules, "
            "minigrad.memory.keep_freed_memory())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "True"
    if sys.platform.startswith("linux"):
        import ctypes.util
        if ctypes.util.find_library("c") and "musl" not in (ctypes.util.find_library("c") or ""):
            assert out[1] == "True"


# --- device probes, as torch's on the same machine ---------------------------------------------

def test_probes_answer_as_torch_without_a_gpu():
    torch = pytest.importorskip("torch")
    if mg.cuda.is_available() or torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    assert mg.accelerator.is_available() is torch.accelerator.is_available() is False
    assert mg.accelerator.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert mg.accelerator.device_count() == torch.accelerator.device_count() == 0
    assert mg.cuda.device_count() == torch.cuda.device_count() == 0
    assert mg.backends.cudnn.is_available() is torch.backends.cudnn.is_available() is False
    assert mg.backends.mps.is_available() is torch.backends.mps.is_available() is False
    assert mg.cuda.manual_seed(0) is None and mg.cuda.manual_seed_all(0) is None and mg.cuda.empty_cache() is None
    for needs_a_gpu in (mg.cuda.current_device, mg.cuda.get_device_name, mg.cuda.synchronize):
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            needs_a_gpu()


def test_probes_with_a_gpu():
    if not mg.cuda.is_available():
        pytest.skip("needs CuPy and a GPU")
    assert mg.accelerator.current_accelerator() == mg.device("cuda") and mg.accelerator.device_count() >= 1
    assert mg.cuda.current_device() == 0 and isinstance(mg.cuda.get_device_name(), str)
    assert mg.cuda.get_device_name("cuda:0") == mg.cuda.get_device_name(0)
    mg.cuda.manual_seed(3)
    first = mg.randn(3, device="cuda").numpy()
    mg.cuda.manual_seed_all(3)
    np.testing.assert_array_equal(mg.randn(3, device="cuda").numpy(), first)
    mg.cuda.synchronize(), mg.cuda.empty_cache()
    t = mg.ones(2, device="cuda")
    assert t.is_cuda and not t.is_cpu and t.device.type == "cuda" and t.type() == "torch.cuda.FloatTensor"
    assert isinstance(t, mg.cuda.FloatTensor) and not isinstance(t, mg.FloatTensor)


def test_cudnn_flags_keep_what_is_set():
    torch = pytest.importorskip("torch")
    cudnn = mg.backends.cudnn
    assert (cudnn.benchmark, cudnn.deterministic, cudnn.enabled) == \
        (torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic, torch.backends.cudnn.enabled)
    before = cudnn.benchmark, cudnn.deterministic
    try:
        cudnn.benchmark, cudnn.deterministic = True, True
        assert mg.backends.cudnn.benchmark and mg.backends.cudnn.deterministic
    finally:
        cudnn.benchmark, cudnn.deterministic = before


def test_tensor_device_is_a_device_and_a_string():
    torch = pytest.importorskip("torch")
    t = mg.ones(2)
    assert t.device == "cpu" and t.device.type == "cpu" and t.device.index is None
    assert repr(t.device) == repr(torch.ones(2).device) and str(t.device) == "cpu"
    assert t.is_cpu and not t.is_cuda
    assert mg.device("cuda:0").type == "cuda" and mg.device("cuda:0").index == 0
    assert mg.device("cuda", 1) == torch.device("cuda", 1).__str__() and mg.device("cuda:1") != "cuda"
    assert {mg.device("cpu"): 1}["cpu"] == 1
