"""Shared test set-up: devices, real data, hypothesis settings.

- `device`: every test that takes it runs on "cpu", and on "cuda" when CuPy sees a GPU.
  MINIGRAD_TEST_CUPY=standin puts the strict CuPy stand-in (tests/strict_cupy) in CuPy's place
  first, so the "cuda" half runs without a GPU (`make test-device`). Tests that run on "cuda"
  (the fixture's GPU half, and tests named for the GPU or CUDA) carry the marker `device`.
- `shared_data`: the folder of real datasets (../shared/data beside the project, or
  $MINIGRAD_TEST_DATA, or --data-dir); tests that need it skip, saying why, when absent.
- Hypothesis: modest example counts, no deadline and the same examples every run (CI must
  not be flaky), so the suite runs in minutes on 2 cores; HYPOTHESIS_PROFILE=thorough runs ten
  times more examples, drawn at random.
"""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

if os.environ.get("MINIGRAD_TEST_CUPY") == "standin":
    import strict_cupy
    strict_cupy.install()  # before minigrad imports cupy

import minigrad as mg  # noqa: E402  (after the stand-in, when asked for)
from minigrad import parallel  # noqa: E402

settings.register_profile("default", max_examples=25, deadline=None, derandomize=True,  # the same examples every run
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("thorough", max_examples=250, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

ROOT = Path(__file__).resolve().parent.parent
DEVICES = ["cpu"] + (["cuda"] if mg.cuda.is_available() else [])


def pytest_configure(config):
    config.addinivalue_line("markers", "device: runs on the cuda device (selected by make test-device)")


def pytest_collection_modifyitems(items):
    for item in items:
        params = getattr(item, "callspec", None)
        on_cuda = params is not None and any(isinstance(v, str) and v == "cuda" for v in params.params.values())
        name = getattr(item, "originalname", item.name)
        named = "cuda" in name or "gpu" in name
        if on_cuda or named:
            item.add_marker("device")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """On the CuPy stand-in without g++, a test that runs an ElementwiseKernel skips, saying so."""
    try:
        return (yield)
    except Exception as error:
        if type(error).__name__ == "NoCompiler":
            pytest.skip(str(error))
        raise


def pytest_addoption(parser):
    parser.addoption("--data-dir", default=None,
                     help="folder of real datasets (default: $MINIGRAD_TEST_DATA, else ../shared/data)")


@pytest.fixture(params=DEVICES)
def device(request):
    return request.param


@pytest.fixture(scope="session")
def shared_data(request):
    """The real-data folder (mnist/, mnist_csv/, celeba/), or skip with the reason."""
    option = request.config.getoption("--data-dir")
    folder = Path(option or os.environ.get("MINIGRAD_TEST_DATA") or ROOT.parent / "shared" / "data")
    if not folder.is_dir():
        pytest.skip(f"real data not found at {folder}: set MINIGRAD_TEST_DATA or pass --data-dir")
    return folder


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that nothing listens on (downloads from it fail at once)."""
    from helpers import closed_port as free_unused_port
    return free_unused_port()


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same random state."""
    mg.manual_seed(0)


@pytest.fixture
def restore_ops():
    """Defining a Function subclass registers it in mg.autograd.OPS; the registry meta-test
    (test_registry.py) would then ask for a gradient test of our throwaway ops. So every test
    that defines one takes this fixture, which puts the registry back as it was."""
    saved = dict(mg.autograd.OPS)
    yield
    mg.autograd.OPS.clear()
    mg.autograd.OPS.update(saved)


@pytest.fixture
def threads(monkeypatch):
    """Set the thread count inside a test; the previous count, and NumPy's BLAS threads (which
    set_num_threads also sets), come back afterwards. The tests' arrays are small, so the size
    below which blocks run inline is lowered: the pool itself is what they test."""
    monkeypatch.setattr(parallel, "THREADED_MIN", 0)
    before = mg.get_num_threads()
    with threadpool_limits(limits=None):  # on exit: the BLAS limits as they are now
        yield mg.set_num_threads
        mg.set_num_threads(before)
