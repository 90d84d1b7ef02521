# One virtual environment (.venv) for everything; each target sets it up when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-numpy test-device test-distributed test-slow bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev,gans]"
	@# PyTorch is optional (comparison tests and benchmarks). Install it only when its CPU
	@# wheel is available offline, never the multi-GB CUDA build from the registry.
	@if $(BIN)/python -m pip install -q --no-index --no-deps "torch==2.13.0" 2>/dev/null; then \
		$(BIN)/python -m pip install -q "torch==2.13.0"; \
	else \
		echo "note: PyTorch 2.13.0 CPU wheel not found offline; torch comparison tests will be skipped"; \
	fi
	touch $(STAMP)

# The real data beside the project (../shared/data) when it is there; else MNIST is downloaded.
DATA := $(wildcard ../shared/data)

# The demo: a conditional MNIST GAN (mnist-cgan: MLPs at batch 64, a projection discriminator),
# five epochs, about a minute of training on 2 CPU cores; a grid with one row per digit. Then
# the metrics protocol measures the run (conditional accuracy by the pinned metrics classifier).
# The book's own conditional GAN is `python -m gans train mnist-conditional` (batch 1, 12 epochs).
demo: setup
	rm -rf runs/demo
	$(BIN)/python -m gans train mnist-cgan --out runs/demo $(if $(DATA),--data-dir $(DATA))
	$(BIN)/python -m gans evaluate runs/demo $(if $(DATA),--data-dir $(DATA))
	@echo
	@echo "sample grid (one row per digit): $$(ls runs/demo/samples/step_*.png | tail -n 1)"
	@echo "loss plot:                       runs/demo/loss.png"
	@echo "metrics:                         runs/demo/metrics.json"

test: setup
	$(BIN)/python -m pytest -q

# The kernel layer's own tests, and the ops and optimisers that call it, on the pure-NumPy path
# (the default is numba's compiled loops, where numba is installed).
test-numpy: setup
	MINIGRAD_KERNELS=numpy $(BIN)/python -m pytest -q tests/test_kernels.py tests/test_optim.py \
		tests/test_ops_norm.py tests/test_ops_conv.py tests/test_parallel.py

# The tests that run on the "cuda" device (marked `device`), on the strict CuPy stand-in
# (tests/strict_cupy): NumPy behind CuPy's rules, so the GPU code path runs without a GPU.
test-device: setup
	MINIGRAD_TEST_CUPY=standin $(BIN)/python -m pytest -q -m "device and not slow"

# The multi-process tests (minigrad.distributed, DDP) under `mpiexec -n 2`; the `distributed` extra
# (mpi4py and the MPICH wheel with its mpiexec) is installed first when it is missing.
test-distributed: setup
	@$(BIN)/python -c "from mpi4py import MPI" 2>/dev/null && test -x $(BIN)/mpiexec || \
		$(BIN)/python -m pip install -q -e ".[distributed]"
	$(BIN)/python -m pytest -q tests/test_distributed.py

test-slow: setup
	$(BIN)/python -m pytest -q -m slow

bench: setup
	$(BIN)/python -m benchmarks.run

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis
