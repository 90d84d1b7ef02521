"""minigrad/optim: SGD and Adam against the textbook update formulas, re-implemented below in
plain float64 NumPy; parameter groups; state_dict / load_state_dict (a resumed run continues
bit for bit); the flat in-place buffers (parameters keep their objects and memory); skipped
parameters; parameters whose .data is replaced; bad hyper-parameters; the version counter."""


import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.optim import SGD, Adam
from strict_cupy.kernel import compile_for_the_cpu, needs_gxx

SHAPES = [(3, 4), (4,), (2, 2, 3), ()]  # several parameters, a 0-d one among them
STEPS = 50
CLOSE = dict(rtol=1e-13, atol=1e-15)


# --- the formulas, written as in the papers, one parameter at a time -----------------------

def reference_sgd(params, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
    """params: list of arrays; grads: grads[t][i] for step t. Returns the parameters after each step."""
    params = [p.copy() for p in params]
    buffers = [None] * len(params)
    history = []
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            g = g + weight_decay * params[i]
            if momentum:
                if buffers[i] is None:
                    buffers[i] = g.copy()
                else:
                    buffers[i] = momentum * buffers[i] + (1 - dampening) * g
                g = g + momentum * buffers[i] if nesterov else buffers[i]
            params[i] = params[i] - lr * g
        history.append([p.copy() for p in params])
    return history


def reference_adam(params, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, steps=None):
    """Kingma & Ba, with bias-corrected moments; L2 weight decay added to the gradient.
    grads[t][i] may be None: that parameter is skipped and its step count t_i does not advance."""
    beta1, beta2 = betas
    params = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    t = [0] * len(params) if steps is None else list(steps)
    history = []
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            if g is None:
                continue
            t[i] += 1
            g = g + weight_decay * params[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            m_hat = m[i] / (1 - beta1 ** t[i])
            v_hat = v[i] / (1 - beta2 ** t[i])
            params[i] = params[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append([p.copy() for p in params])
    return history


def random_problem(seed=0, steps=STEPS, shapes=SHAPES):
    rng = np.random.default_rng(seed)
    initial = [rng.normal(size=shape) for shape in shapes]
    grads = [[rng.normal(size=shape) * rng.uniform(0.1, 10) for shape in shapes] for _ in range(steps)]
    return initial, grads


def run_optimizer(make_optimizer, initial, grads, device="cpu"):
    """Parameters from `initial`, the given gradient at each step; the parameters after each step."""
    params = [nn.Parameter(mg.tensor(a, device=device)) for a in initial]
    optimizer = make_optimizer(params)
    history = []
    for step_grads in grads:
        optimizer.zero_grad()
        for p, g in zip(params, step_grads):
            p.grad = None if g is None else mg.tensor(g, device=device)
        optimizer.step()
        history.append([p.cpu().numpy().copy() for p in params])
    return history, params, optimizer


def assert_histories_close(actual, expected, **tolerance):
    tolerance = tolerance or CLOSE
    for step, (got, want) in enumerate(zip(actual, expected)):
        for i, (a, b) in enumerate(zip(got, want)):
            np.testing.assert_allclose(a, b, err_msg=f"step {step + 1}, parameter {i}", **tolerance)


SGD_SETTINGS = {
    "plain": dict(lr=0.05),
    "momentum": dict(lr=0.05, momentum=0.9),
    "dampening": dict(lr=0.05, momentum=0.8, dampening=0.3),
    "nesterov": dict(lr=0.05, momentum=0.9, nesterov=True),
    "weight decay": dict(lr=0.05, weight_decay=0.1),
    "all": dict(lr=0.02, momentum=0.7, weight_decay=0.05, nesterov=True),
    "momentum, dampening, decay": dict(lr=0.02, momentum=0.5, dampening=0.5, weight_decay=0.01),
}


@pytest.mark.parametrize("setting", SGD_SETTINGS)
def test_sgd_matches_the_formula(setting):
    options = SGD_SETTINGS[setting]
    initial, grads = random_problem()
    history, _, _ = run_optimizer(lambda params: SGD(params, **options), initial, grads)
    assert_histories_close(history, reference_sgd(initial, grads, **options))
    assert not np.allclose(history[-1][0], initial[0])


ADAM_SETTINGS = {
    "defaults": dict(),
    "lr and betas": dict(lr=0.01, betas=(0.8, 0.99)),
    "weight decay": dict(lr=0.01, weight_decay=0.1),
    "large eps": dict(lr=0.05, eps=0.1, betas=(0.5, 0.9), weight_decay=0.01),
}


@pytest.mark.parametrize("setting", ADAM_SETTINGS)
def test_adam_matches_the_formula(setting):
    options = ADAM_SETTINGS[setting]
    initial, grads = random_problem(1)
    history, _, _ = run_optimizer(lambda params: Adam(params, **options), initial, grads)
    assert_histories_close(history, reference_adam(initial, grads, **options))


# --- Adam's GPU kernel: its CUDA C checked on the CPU, and on a GPU where there is one ----------
# (compile_for_the_cpu, in the CuPy stand-in, compiles the kernel's C with g++ into CuPy's loop)


@needs_gxx
@pytest.mark.parametrize("setting", ADAM_SETTINGS)
def test_adam_gpu_kernel_computes_the_formula(setting, tmp_path, monkeypatch):
    """Adam.GPU_KERNEL's CUDA C, run on the CPU through Adam.update_in_one_kernel, as the GPU runs
    it: in float64 it gives the formula (as the array operations do, to 1e-13); in float32 the
    same numbers as the array operations."""
    options = ADAM_SETTINGS[setting]
    initial, grads = random_problem(1)
    single = ([a.astype(np.float32) for a in initial], [[g.astype(np.float32) for g in gs] for gs in grads])
    array_ops, _, _ = run_optimizer(lambda params: Adam(params, **options), *single)
    for c_type, (first, gradients), expected, tolerance in [
            ("double", (initial, grads), reference_adam(initial, grads, **options), CLOSE),
            ("float", single, array_ops, dict(rtol=1e-6, atol=1e-7))]:
        kernel = compile_for_the_cpu(*Adam.GPU_KERNEL, c_type, tmp_path)
        monkeypatch.setattr(Adam, "update", lambda self, p, g, scratch, state, step, group, kernel=kernel:
                            self.update_in_one_kernel(kernel, p, g, state["exp_avg"], state["exp_avg_sq"],
                                                      step, group))
        history, _, _ = run_optimizer(lambda params: Adam(params, **options), first, gradients)
        assert history[-1][0].dtype == first[0].dtype
        assert_histories_close(history, expected, **tolerance)


@pytest.mark.skipif(not mg.cuda.is_available(), reason="needs CuPy and a GPU")
@pytest.mark.parametrize("setting", ADAM_SETTINGS)
def test_adam_on_the_gpu_runs_its_kernel_and_matches_the_cpu(setting, monkeypatch):
    options = ADAM_SETTINGS[setting]
    initial, grads = random_problem(1)
    initial, grads = [a.astype(np.float32) for a in initial], [[g.astype(np.float32) for g in gs] for gs in grads]
    on_cpu, _, _ = run_optimizer(lambda params: Adam(params, **options), initial, grads)
    used = []
    fused = Adam.update_in_one_kernel
    monkeypatch.setattr(Adam, "update_in_one_kernel", staticmethod(lambda *args: used.append(True) or fused(*args)))
    on_gpu, _, _ = run_optimizer(lambda params: Adam(params, **options), initial, grads, device="cuda")
    assert len(used) == len(grads)
    assert_histories_close(on_gpu, on_cpu, rtol=1e-5, atol=1e-6)


def test_adam_defaults_are_pytorchs():
    optimizer = Adam([nn.Parameter(mg.zeros(1))])
    group = optimizer.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == (1e-3, (0.9, 0.999), 1e-8, 0.0)
    group = SGD([nn.Parameter(mg.zeros(1))], lr=0.1).param_groups[0]
    assert (group["momentum"], group["dampening"], group["weight_decay"], group["nesterov"]) == (0, 0, 0, False)


def test_adam_first_step_moves_each_element_by_lr():
    """With bias correction, step 1 is lr * g / (|g| + eps): lr times the sign of g."""
    p = nn.Parameter(mg.tensor([1.0, -2.0, 3.0], dtype=mg.float64))
    optimizer = Adam([p], lr=0.1)
    p.grad = mg.tensor([5.0, -0.001, 100.0], dtype=mg.float64)
    optimizer.step()
    g = np.array([5.0, -0.001, 100.0])
    np.testing.assert_allclose(p.numpy(), [1.0, -2.0, 3.0] - 0.1 * g / (np.abs(g) + 1e-8), **CLOSE)
    np.testing.assert_allclose(p.numpy(), [0.9, -1.9, 2.9], rtol=1e-5)


# --- zero_grad ---------------------------------------------------------------------------------

def test_zero_grad():
    params = [nn.Parameter(mg.ones(2)), nn.Parameter(mg.ones(3))]
    optimizer = SGD(params, lr=0.1)
    (params[0].sum() + params[1].sum()).backward()
    grad = params[0].grad
    optimizer.zero_grad(set_to_none=False)
    assert params[0].grad is grad and params[0].grad.tolist() == [0.0, 0.0]
    optimizer.zero_grad()
    assert params[0].grad is None and params[1].grad is None


# --- parameter groups --------------------------------------------------------------------------

def test_parameter_groups_with_their_own_hyper_parameters():
    initial, grads = random_problem(2)
    first, second = initial[:2], initial[2:]

    def make(params):
        return Adam([{"params": params[:2]}, {"params": params[2:], "lr": 0.05, "weight_decay": 0.1}], lr=0.01)
    history, params, optimizer = run_optimizer(make, initial, grads)
    expected_first = reference_adam(first, [g[:2] for g in grads], lr=0.01)
    expected_second = reference_adam(second, [g[2:] for g in grads], lr=0.05, weight_decay=0.1)
    assert_histories_close([h[:2] for h in history], expected_first)
    assert_histories_close([h[2:] for h in history], expected_second)
    assert optimizer.param_groups[0]["lr"] == 0.01 and optimizer.param_groups[1]["lr"] == 0.05
    assert optimizer.param_groups[1]["betas"] == (0.9, 0.999)  # the defaults fill in the rest


def test_changing_lr_in_a_group_takes_effect():
    p = nn.Parameter(mg.tensor([1.0], dtype=mg.float64))
    optimizer = SGD([p], lr=0.1)
    p.grad = mg.tensor([1.0], dtype=mg.float64)
    optimizer.step()
    optimizer.param_groups[0]["lr"] = 0.5
    optimizer.step()
    np.testing.assert_allclose(p.numpy(), [1.0 - 0.1 - 0.5], **CLOSE)


def test_add_param_group():
    a, b = nn.Parameter(mg.ones(2, dtype=mg.float64)), nn.Parameter(mg.ones(2, dtype=mg.float64))
    optimizer = SGD([a], lr=0.1)
    optimizer.add_param_group({"params": b, "lr": 1.0})
    a.grad, b.grad = mg.ones(2, dtype=mg.float64), mg.ones(2, dtype=mg.float64)
    optimizer.step()
    assert a.tolist() == [0.9, 0.9] and b.tolist() == [0.0, 0.0]


# --- in place ---------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1, momentum=0.9), lambda ps: Adam(ps, lr=0.1)])
def test_updates_are_in_place_in_one_flat_buffer(make):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    params = list(model.parameters())
    optimizer = make(model.parameters())
    arrays = [p.array for p in params]
    flat = optimizer._flat[0].values
    for p in params:  # every parameter is a view into the optimiser's one flat array
        assert np.shares_memory(p.array, flat)
    assert flat.size == sum(p.numel() for p in params)
    x = mg.randn(8, 3)
    for _ in range(3):
        before = flat.copy()
        optimizer.zero_grad()
        model(x).pow(2).mean().backward()
        optimizer.step()
        assert not np.array_equal(flat, before)
    assert all(a is b for a, b in zip(model.parameters(), params))
    assert all(p.array is a for p, a in zip(params, arrays))  # the same arrays, updated in place
    state = model.state_dict()
    assert np.shares_memory(state["0.weight"].numpy(), flat)


def test_values_are_kept_when_the_optimizer_is_created():
    model = nn.Linear(3, 2)
    before = [p.numpy().copy() for p in model.parameters()]
    Adam(model.parameters())
    for p, b in zip(model.parameters(), before):
        np.testing.assert_array_equal(p.numpy(), b)


# --- parameters without a gradient --------------------------------------------------------------

def test_a_parameter_without_grad_is_skipped_and_its_step_count_waits():
    initial, grads = random_problem(3, steps=12)
    for t in range(5):  # parameter 1 has no grad for the first 5 steps, parameter 3 never
        grads[t][1] = None
    for t in range(12):
        grads[t][3] = None
    history, params, optimizer = run_optimizer(lambda ps: Adam(ps, lr=0.01), initial, grads)
    assert_histories_close(history, reference_adam(initial, grads, lr=0.01))
    np.testing.assert_array_equal(history[4][1], initial[1])  # not moved while it had no grad
    np.testing.assert_array_equal(params[3].numpy(), initial[3])
    state = optimizer.state_dict()["state"]
    assert state[0]["step"] == 12 and state[1]["step"] == 7 and 3 not in state


def test_sgd_momentum_with_a_skipped_parameter():
    initial, grads = random_problem(4, steps=10)
    for t in (0, 1, 6):
        grads[t][0] = None
    options = dict(lr=0.05, momentum=0.9, nesterov=True)
    history, _, _ = run_optimizer(lambda ps: SGD(ps, **options), initial, grads)
    expected = reference_sgd_with_skips(initial, grads, **options)
    assert_histories_close(history, expected)


def reference_sgd_with_skips(initial, grads, **options):
    """reference_sgd, one parameter at a time, leaving out the steps where it has no grad."""
    per_param = []
    for i, p in enumerate(initial):
        own = [[g[i]] for g in grads if g[i] is not None]
        steps = iter(reference_sgd([p], own, **options))
        current = p.copy()
        values = []
        for g in grads:
            if g[i] is not None:
                current = next(steps)[0]
            values.append(current)
        per_param.append(values)
    return [list(step) for step in zip(*per_param)]


# --- state_dict: resuming continues bit for bit ----------------------------------------------

def make_run(seed=0):
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1)).double()
    return model


def train(model, optimizer, steps, start=0):
    rng = np.random.default_rng(100)
    batches = [(rng.normal(size=(16, 4)), rng.normal(size=(16, 1))) for _ in range(start + steps)][start:]
    losses = []
    for x, y in batches:
        optimizer.zero_grad()
        loss = nn.MSELoss()(model(mg.tensor(x)), mg.tensor(y))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


OPTIMIZERS = {
    "adam": lambda params: Adam(params, lr=0.01, weight_decay=0.01),
    "sgd nesterov": lambda params: SGD(params, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.001),
    "rmsprop centered momentum": lambda params: mg.optim.RMSprop(params, lr=0.003, momentum=0.5, centered=True,
                                                                 weight_decay=0.01),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_resuming_from_a_state_dict_continues_bit_for_bit(name, tmp_path):
    make_optimizer = OPTIMIZERS[name]
    model = make_run()
    optimizer = make_optimizer(model.parameters())
    uninterrupted = train(model, optimizer, 20)
    final = {k: v.numpy().copy() for k, v in model.state_dict().items()}

    model = make_run()
    optimizer = make_optimizer(model.parameters())
    first_half = train(model, optimizer, 10)
    mg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "checkpoint.npz")

    resumed_model = make_run(seed=99)  # other initial values, overwritten by the checkpoint
    resumed = make_optimizer(resumed_model.parameters())
    checkpoint = mg.load(tmp_path / "checkpoint.npz")
    resumed_model.load_state_dict(checkpoint["model"])
    resumed.load_state_dict(checkpoint["optimizer"])
    second_half = train(resumed_model, resumed, 10, start=10)

    assert first_half + second_half == uninterrupted  # exactly, not approximately
    for key, value in resumed_model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), final[key])


def test_resuming_without_the_optimizer_state_differs():
    """The check above is not vacuous: a fresh Adam (no moments, step 0) continues differently."""
    model = make_run()
    optimizer = Adam(model.parameters(), lr=0.01)
    uninterrupted = train(model, optimizer, 20)
    model = make_run()
    optimizer = Adam(model.parameters(), lr=0.01)
    first_half = train(model, optimizer, 10)
    second_half = train(model, Adam(model.parameters(), lr=0.01), 10, start=10)
    assert first_half + second_half != uninterrupted


def test_state_dict_layout_is_pytorchs():
    model = nn.Linear(3, 2)
    optimizer = Adam(model.parameters(), lr=0.01)
    model(mg.randn(4, 3)).sum().backward()
    optimizer.step()
    optimizer.step()
    state = optimizer.state_dict()
    assert set(state) == {"state", "param_groups"}
    assert sorted(state["state"]) == [0, 1]
    assert state["state"][0]["step"] == 2
    assert state["state"][0]["exp_avg"].shape == (2, 3) and state["state"][1]["exp_avg_sq"].shape == (2,)
    assert state["param_groups"] == [dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                                          maximize=False, foreach=None, capturable=False, differentiable=False,
                                          fused=None, decoupled_weight_decay=False, params=[0, 1])]
    g = model.weight.grad.numpy()
    np.testing.assert_allclose(state["state"][0]["exp_avg"].numpy(), (1 - 0.9 ** 2) * g, rtol=1e-6)


def test_load_state_dict_restores_hyper_parameters_and_checks_the_layout():
    model = nn.Linear(3, 2)
    saved = Adam(model.parameters(), lr=0.5, betas=(0.5, 0.6)).state_dict()
    optimizer = Adam(model.parameters(), lr=0.01)
    optimizer.load_state_dict(saved)
    assert optimizer.param_groups[0]["lr"] == 0.5 and optimizer.param_groups[0]["betas"] == (0.5, 0.6)
    with pytest.raises(ValueError, match="2 parameter groups, this optimizer has 1"):
        optimizer.load_state_dict({"state": {}, "param_groups": saved["param_groups"] * 2})
    with pytest.raises(ValueError, match="group of 1 parameters where this optimizer has 2"):
        optimizer.load_state_dict({"state": {}, "param_groups": [dict(saved["param_groups"][0], params=[0])]})


# --- parameters whose .data is replaced --------------------------------------------------------

def test_double_after_creating_the_optimizer_keeps_the_state():
    """model.double() replaces every p.array: the optimiser re-gathers its buffers, keeping its moments."""
    model = nn.Linear(3, 2)
    optimizer = Adam(model.parameters(), lr=0.01)
    x = mg.randn(5, 3)
    for _ in range(3):
        optimizer.zero_grad()
        model(x).pow(2).sum().backward()
        optimizer.step()
    state = {i: {k: (v.numpy().astype(np.float64) if hasattr(v, "numpy") else v) for k, v in entry.items()}
             for i, entry in optimizer.state_dict()["state"].items()}
    model.double()
    params = list(model.parameters())
    optimizer.zero_grad()
    model(x.double()).pow(2).sum().backward()
    before = [p.numpy().copy() for p in params]
    grads = [p.grad.numpy().copy() for p in params]
    optimizer.step()
    for i, p in enumerate(params):
        assert p.dtype == np.float64 and np.shares_memory(p.array, optimizer._flat[0].values)
        # step 4 from the float32 moments of step 3, now in float64
        m = 0.9 * state[i]["exp_avg"] + 0.1 * grads[i]
        v = 0.999 * state[i]["exp_avg_sq"] + 0.001 * grads[i] ** 2
        expected = before[i] - 0.01 * (m / (1 - 0.9 ** 4)) / (np.sqrt(v / (1 - 0.999 ** 4)) + 1e-8)
        np.testing.assert_allclose(p.numpy(), expected, rtol=1e-12, atol=1e-15)
    assert optimizer.state_dict()["state"][0]["step"] == 4
    assert optimizer.state_dict()["state"][0]["exp_avg"].dtype == np.float64


def test_replacing_p_data_mid_run_continues_bit_for_bit():
    initial, grads = random_problem(5, steps=10)
    expected, _, _ = run_optimizer(lambda ps: Adam(ps, lr=0.01), initial, grads)
    params = [nn.Parameter(mg.tensor(a)) for a in initial]
    optimizer = Adam(params, lr=0.01)
    for t, step_grads in enumerate(grads):
        if t == 5:
            for p in params:
                p.array = p.array.copy()  # new arrays, same values
        for p, g in zip(params, step_grads):
            p.grad = mg.tensor(g)
        optimizer.step()
        for p in params:
            assert np.shares_memory(p.array, optimizer._flat[0].values)
    for p, e in zip(params, expected[-1]):
        np.testing.assert_array_equal(p.numpy(), e)


def test_a_group_needs_one_dtype():
    with pytest.raises(TypeError, match="one dtype and device.*separate groups"):
        Adam([nn.Parameter(mg.zeros(2)), nn.Parameter(mg.zeros(2, dtype=mg.float64))])
    # in separate groups it works
    Adam([{"params": [nn.Parameter(mg.zeros(2))]}, {"params": [nn.Parameter(mg.zeros(2, dtype=mg.float64))]}])


# --- bad arguments -------------------------------------------------------------------------------

@pytest.mark.parametrize("make, message", [
    (lambda ps: SGD(ps, lr=-0.1), "SGD: lr must be >= 0, got -0.1"),
    (lambda ps: SGD(ps, lr=0.1, momentum=-0.5), "must be >= 0"),
    (lambda ps: SGD(ps, lr=0.1, weight_decay=-1), "must be >= 0"),
    (lambda ps: SGD(ps, lr=0.1, nesterov=True), "Nesterov momentum requires a momentum"),
    (lambda ps: SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "zero dampening"),
    (lambda ps: Adam(ps, lr=-1e-3), "Adam: lr must be >= 0"),
    (lambda ps: Adam(ps, eps=-1e-8), "must be >= 0"),
    (lambda ps: Adam(ps, weight_decay=-0.1), "must be >= 0"),
    (lambda ps: Adam(ps, betas=(1.0, 0.999)), r"betas\[0\] must be in \[0, 1\)"),
    (lambda ps: Adam(ps, betas=(0.9, -0.1)), "betas"),
])
def test_bad_hyper_parameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make([nn.Parameter(mg.zeros(2))])


def test_bad_parameter_lists_raise():
    p = nn.Parameter(mg.zeros(2))
    with pytest.raises(ValueError, match="empty parameter list"):
        Adam([])
    with pytest.raises(ValueError, match="more than one parameter group"):
        SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        SGD([p * 2], lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        SGD([np.zeros(2)], lr=0.1)


# --- the version counter -----------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: Adam(ps)])
def test_a_graph_built_before_step_refuses_backward_after_it(make):
    model = nn.Linear(3, 1)
    optimizer = make(model.parameters())
    x = mg.randn(4, 3)
    model(x).sum().backward()
    stale = model(x).sum()  # saves the weight as it is now
    optimizer.step()  # changes it in place
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        stale.backward()
    model(x).sum().backward()  # a graph built after the step is fine


def test_repr_lists_the_groups():
    optimizer = SGD([nn.Parameter(mg.zeros(1))], lr=0.1, momentum=0.9)
    assert repr(optimizer) == ("SGD (\nParameter Group 0\n    dampening: 0.0\n    differentiable: False\n"
                               "    foreach: None\n    fused: None\n    lr: 0.1\n    maximize: False\n"
                               "    momentum: 0.9\n    nesterov: False\n    weight_decay: 0.0\n)")


def test_sgd_momentum_set_per_group():
    a, b = mg.nn.Parameter(mg.ones(3)), mg.nn.Parameter(mg.ones(3))
    optimizer = mg.optim.SGD([{"params": [a], "momentum": 0.9}, {"params": [b]}], lr=0.1)
    for _ in range(2):
        a.grad, b.grad = mg.ones(3), mg.ones(3)
        optimizer.step()
    np.testing.assert_allclose(a.numpy(), 1 - 0.1 * (1 + 1.9), rtol=1e-6)  # buffers 1, then 1.9
    np.testing.assert_allclose(b.numpy(), 1 - 0.1 * 2, rtol=1e-6)


# --- RMSprop, schedules, and checked hyper-parameters and state dicts ---------------------------------

from minigrad.optim import RMSprop  # noqa: E402
from minigrad.optim.lr_scheduler import LambdaLR, StepLR  # noqa: E402


def test_rmsprop_first_step_by_hand():
    p = nn.Parameter(mg.tensor([1.0, -2.0], dtype=mg.float64))
    optimizer = RMSprop([p], lr=0.1, alpha=0.9, eps=1e-8)
    p.grad = mg.tensor([0.5, -1.0], dtype=mg.float64)
    optimizer.step()
    v = 0.1 * np.array([0.25, 1.0])
    np.testing.assert_allclose(p.numpy(), [1.0, -2.0] - 0.1 * np.array([0.5, -1.0]) / (np.sqrt(v) + 1e-8), rtol=1e-14)
    assert optimizer.state_dict()["param_groups"][0] == dict(lr=0.1, alpha=0.9, eps=1e-8, weight_decay=0, momentum=0,
                                                             centered=False, capturable=False, foreach=None,
                                                             maximize=False, differentiable=False, params=[0])


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr="0.1"), lambda ps: Adam(ps, lr="0.1"), lambda ps: RMSprop(ps, lr="0.1"),
    lambda ps: Adam(ps, betas=("0.9", 0.999)), lambda ps: RMSprop(ps, momentum=None), lambda ps: Adam(ps, betas=0.9),
    lambda ps: SGD([{"params": ps, "lr": "1e-3"}], lr=0.1),
], ids=["sgd lr", "adam lr", "rmsprop lr", "adam betas", "rmsprop momentum", "adam betas not a pair", "group lr"])
def test_hyper_parameters_of_the_wrong_type_raise_a_clear_type_error(make):
    with pytest.raises(TypeError, match="must be a (number|pair of numbers), got"):
        make([nn.Parameter(mg.zeros(2))])


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=float("nan")), lambda ps: Adam(ps, lr=float("nan")), lambda ps: RMSprop(ps, lr=float("nan")),
    lambda ps: Adam(ps, eps=float("nan")), lambda ps: RMSprop(ps, alpha=float("nan")),
    lambda ps: SGD(ps, lr=0.1, momentum=float("nan")),
])
def test_nan_hyper_parameters_are_refused(make):
    with pytest.raises(ValueError, match="got nan"):
        make([nn.Parameter(mg.zeros(2))])


@pytest.mark.parametrize("make, message", [
    (lambda ps: RMSprop(ps, lr=-0.1), "RMSprop: lr must be >= 0"),
    (lambda ps: RMSprop(ps, alpha=-0.5), "alpha must be >= 0"),
    (lambda ps: RMSprop(ps, eps=-1.0), "eps must be >= 0"),
    (lambda ps: RMSprop(ps, momentum=-0.9), "momentum must be >= 0"),
    (lambda ps: RMSprop(ps, weight_decay=-1), "weight_decay must be >= 0"),
])
def test_bad_rmsprop_hyper_parameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make([nn.Parameter(mg.zeros(2))])


def trained(make_optimizer, steps=3):
    model = make_run()
    optimizer = make_optimizer(model.parameters())
    train(model, optimizer, steps)
    return model, optimizer


def snapshot(optimizer):
    state = optimizer.state_dict()
    return ({i: {k: (v.numpy().copy() if isinstance(v, mg.Tensor) else v) for k, v in entry.items()}
             for i, entry in state["state"].items()}, [dict(g) for g in state["param_groups"]])


@pytest.mark.parametrize("source, target", [("sgd", "adam"), ("adam", "sgd"), ("rmsprop", "adam"),
                                            ("adam", "rmsprop"), ("sgd", "rmsprop"), ("rmsprop", "sgd")])
def test_loading_another_optimizers_state_fails_clearly_and_changes_nothing(source, target, tmp_path):
    makers = {"sgd": lambda ps: SGD(ps, lr=0.05, momentum=0.9), "adam": lambda ps: Adam(ps, lr=0.01),
              "rmsprop": lambda ps: RMSprop(ps, lr=0.01, momentum=0.9)}
    _, saved = trained(makers[source])
    mg.save(saved.state_dict(), tmp_path / "optimizer.npz")
    model, optimizer = trained(makers[target])
    before = snapshot(optimizer)
    with pytest.raises(ValueError, match="another kind of optimizer") as error:
        optimizer.load_state_dict(mg.load(tmp_path / "optimizer.npz"))
    assert "\n" not in str(error.value)
    after = snapshot(optimizer)
    assert after[1] == before[1]
    for i in before[0]:
        for key, value in before[0][i].items():
            np.testing.assert_array_equal(after[0][i][key], value)


def test_load_state_dict_refuses_what_is_not_a_state_dict():
    _, optimizer = trained(lambda ps: Adam(ps, lr=0.01))
    good = optimizer.state_dict()
    with pytest.raises(TypeError, match="a dict with keys 'state' and 'param_groups'; got list"):
        optimizer.load_state_dict([good])
    with pytest.raises(TypeError, match=r"got a dict with keys \['model'\]"):
        optimizer.load_state_dict({"model": good})
    with pytest.raises(TypeError, match="must be a dict"):
        optimizer.load_state_dict({"state": [], "param_groups": good["param_groups"]})
    with pytest.raises(TypeError, match="Adam: lr must be a number"):
        optimizer.load_state_dict({"state": {}, "param_groups": [dict(good["param_groups"][0], lr="0.1")]})


def test_a_failed_load_changes_nothing_even_when_the_error_comes_late():
    """The last parameter's state has the wrong size: nothing before it may have been written."""
    _, optimizer = trained(lambda ps: Adam(ps, lr=0.01))
    bad = optimizer.state_dict()
    bad = {"state": {i: dict(entry) for i, entry in bad["state"].items()},
           "param_groups": [dict(bad["param_groups"][0], lr=0.5)]}
    last = max(bad["state"])
    bad["state"][0] = {k: (v * 0 + 7 if isinstance(v, mg.Tensor) else 99) for k, v in bad["state"][0].items()}
    bad["state"][last] = dict(bad["state"][last], exp_avg=mg.zeros(1000))
    before = snapshot(optimizer)
    with pytest.raises(ValueError, match="has 1000 elements"):
        optimizer.load_state_dict(bad)
    after = snapshot(optimizer)
    assert after[1] == before[1] and after[1][0]["lr"] == 0.01
    np.testing.assert_array_equal(after[0][0]["exp_avg"], before[0][0]["exp_avg"])
    assert after[0][0]["step"] == before[0][0]["step"]


@pytest.mark.parametrize("make_schedule", [lambda opt: StepLR(opt, step_size=2, gamma=0.5),
                                           lambda opt: LambdaLR(opt, lambda epoch: 0.95 ** epoch)],
                         ids=["step", "lambda"])
def test_resuming_optimizer_and_schedule_through_mg_save_continues_bit_for_bit(make_schedule, tmp_path):
    def run(model, optimizer, schedule, epochs, start=0):
        losses = []
        for epoch in range(start, start + epochs):
            losses += train(model, optimizer, 2, start=2 * epoch)
            schedule.step()
        return losses

    model = make_run()
    optimizer = RMSprop(model.parameters(), lr=0.01, momentum=0.5)
    uninterrupted = run(model, optimizer, make_schedule(optimizer), 6)

    model = make_run()
    optimizer = RMSprop(model.parameters(), lr=0.01, momentum=0.5)
    schedule = make_schedule(optimizer)
    first = run(model, optimizer, schedule, 3)
    mg.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict()},
            tmp_path / "checkpoint.npz")

    checkpoint = mg.load(tmp_path / "checkpoint.npz")
    model = make_run(seed=7)  # built as in a fresh run, then everything loaded (PyTorch's order)
    optimizer = RMSprop(model.parameters(), lr=0.01, momentum=0.5)
    schedule = make_schedule(optimizer)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    schedule.load_state_dict(checkpoint["schedule"])
    assert schedule.last_epoch == 3 and optimizer.param_groups[0]["lr"] == schedule.get_last_lr()[0]
    second = run(model, optimizer, schedule, 3, start=3)
    assert first + second == uninterrupted


def test_schedules_set_rates_as_documented():
    p = nn.Parameter(mg.zeros(2))
    optimizer = SGD([p], lr=1.0)
    schedule = StepLR(optimizer, step_size=2, gamma=0.1)
    rates = [schedule.get_last_lr()[0]]
    for _ in range(5):
        schedule.step()
        rates.append(optimizer.param_groups[0]["lr"])
    np.testing.assert_allclose(rates, [1, 1, 0.1, 0.1, 0.01, 0.01])
    assert optimizer.param_groups[0]["initial_lr"] == 1.0
    optimizer = SGD([{"params": [nn.Parameter(mg.zeros(1))]}, {"params": [p], "lr": 2.0}], lr=1.0)
    schedule = LambdaLR(optimizer, [lambda e: 1.0 / (e + 1), lambda e: 0.5])
    schedule.step()
    assert schedule.get_last_lr() == [0.5, 1.0]


def test_schedules_check_their_arguments():
    optimizer = SGD([nn.Parameter(mg.zeros(2))], lr=1.0)
    with pytest.raises(TypeError, match="needs an optimizer"):
        StepLR([optimizer], 2)
    with pytest.raises(ValueError, match="step_size must be a positive integer"):
        StepLR(optimizer, 0)
    with pytest.raises(ValueError, match="expected 1 lr_lambdas"):
        LambdaLR(optimizer, [lambda e: 1, lambda e: 2])
    with pytest.raises(TypeError, match="function of the epoch"):
        LambdaLR(optimizer, 0.5)
    with pytest.raises(KeyError, match="initial_lr"):
        StepLR(SGD([nn.Parameter(mg.zeros(2))], lr=1.0), 2, last_epoch=4)
    schedule = StepLR(optimizer, 2)
    with pytest.raises(TypeError, match="step\\(epoch\\) is deprecated"):
        schedule.step(3)
    with pytest.raises(TypeError, match="expects the dict"):
        schedule.load_state_dict([1])
    with pytest.raises(ValueError, match="no gamma, step_size"):
        schedule.load_state_dict(LambdaLR(SGD([nn.Parameter(mg.zeros(2))], lr=1.0), lambda e: 1).state_dict())


# --- against PyTorch: AdamW, Adagrad, Adadelta, LBFGS and the flags of every optimiser ---------------

from minigrad.optim import LBFGS, Adadelta, Adagrad, AdamW  # noqa: E402

PARITY = {
    "adamw": lambda optim, ps: optim.AdamW(ps, lr=0.05),
    "adamw amsgrad decay": lambda optim, ps: optim.AdamW(ps, lr=0.05, weight_decay=0.1, amsgrad=True),
    "adam amsgrad maximize": lambda optim, ps: optim.Adam(ps, lr=0.05, amsgrad=True, maximize=True, weight_decay=0.1),
    "adam decoupled": lambda optim, ps: optim.Adam(ps, lr=0.05, weight_decay=0.2, decoupled_weight_decay=True),
    "adam perf flags": lambda optim, ps: optim.Adam(ps, lr=0.05, foreach=False, fused=None, capturable=False),
    "sgd maximize": lambda optim, ps: optim.SGD(ps, lr=0.05, momentum=0.9, maximize=True, foreach=False),
    "sgd default lr": lambda optim, ps: optim.SGD(ps),
    "rmsprop maximize": lambda optim, ps: optim.RMSprop(ps, lr=0.01, centered=True, maximize=True),
    "adagrad": lambda optim, ps: optim.Adagrad(ps, lr=0.1),
    "adagrad everything": lambda optim, ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.05, weight_decay=0.1,
                                                          initial_accumulator_value=0.3, eps=1e-6, maximize=True),
    "adadelta": lambda optim, ps: optim.Adadelta(ps),
    "adadelta everything": lambda optim, ps: optim.Adadelta(ps, lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1,
                                                            maximize=True),
    "adagrad groups": lambda optim, ps: optim.Adagrad([{"params": ps[:1], "lr_decay": 0.1}, {"params": ps[1:]}],
                                                      lr=0.2),
    "adamax": lambda optim, ps: optim.Adamax(ps),
    "adamax everything": lambda optim, ps: optim.Adamax(ps, lr=0.05, betas=(0.8, 0.9), eps=1e-3, weight_decay=0.1,
                                                        maximize=True),
    "adamax groups": lambda optim, ps: optim.Adamax([{"params": ps[:1], "lr": 0.1}, {"params": ps[1:]}], lr=0.02),
}


def quadratic_run(lib, make, steps=6):
    """Parameters after each of `steps` steps on f = sum_i (a_i p_i^2 / 2 + b_i p_i + p_0[0] p_i^3 / 10)."""
    rng = np.random.default_rng(3)
    shapes = [(3, 4), (4,), ()]
    initial = [rng.normal(size=s) for s in shapes]
    a, b = [rng.uniform(0.5, 2, size=s) for s in shapes], [rng.normal(size=s) for s in shapes]
    Parameter = nn.Parameter if lib is mg else lib.nn.Parameter
    params = [Parameter(lib.tensor(x)) for x in initial]
    optimizer = make(lib.optim, params)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = sum((lib.tensor(ai) * p * p / 2 + lib.tensor(bi) * p + params[0][0, 0] * p ** 3 / 10).sum()
                   for p, ai, bi in zip(params, a, b))
        loss.backward()
        optimizer.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history, optimizer


@pytest.mark.parametrize("name", PARITY)
def test_optimizers_match_pytorch_step_by_step(name):
    torch = pytest.importorskip("torch")
    ours, mg_optimizer = quadratic_run(mg, PARITY[name])
    theirs, torch_optimizer = quadratic_run(torch, PARITY[name])
    assert_histories_close(ours, theirs, rtol=1e-10, atol=1e-12)
    assert not np.allclose(ours[-1][0], ours[0][0])
    mine, expected = mg_optimizer.state_dict(), torch_optimizer.state_dict()
    for ours_group, their_group in zip(mine["param_groups"], expected["param_groups"]):
        assert ours_group == their_group
    for index, entry in expected["state"].items():
        entry = {key: value for key, value in entry.items() if value is not None}
        assert set(entry) <= set(mine["state"][index])  # torch's SGD keeps no step count
        for key, value in entry.items():
            np.testing.assert_allclose(np.asarray(mine["state"][index][key].numpy() if key != "step" else
                                                  mine["state"][index][key]), value.numpy(), rtol=1e-10, atol=1e-12)


def test_adamw_defaults_are_pytorchs():
    optimizer = AdamW([nn.Parameter(mg.zeros(2))])
    group = optimizer.param_groups[0]
    assert (group["lr"], group["weight_decay"], group["amsgrad"], group["decoupled_weight_decay"]) == (1e-3, 1e-2,
                                                                                                      False, True)
    assert Adagrad([nn.Parameter(mg.zeros(2))]).defaults["eps"] == 1e-10
    assert Adadelta([nn.Parameter(mg.zeros(2))]).defaults == dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0,
                                                                   maximize=False, capturable=False, foreach=None,
                                                                   differentiable=False)


def test_adamw_first_step_by_hand():
    p = nn.Parameter(mg.tensor([1.0, -2.0], dtype=mg.float64))
    optimizer = AdamW([p], lr=0.1, weight_decay=0.5)
    p.grad = mg.tensor([0.5, -1.0], dtype=mg.float64)
    optimizer.step()
    # p (1 - lr wd), then Adam's first step moves each element by lr * sign(g) (up to eps)
    np.testing.assert_allclose(p.numpy(), np.array([1.0, -2.0]) * 0.95 - 0.1 * np.array([1, -1]), rtol=1e-7)


def test_adagrad_resumes_from_a_state_dict_bit_for_bit(tmp_path):
    make = lambda optim, ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5)  # noqa: E731
    whole, _ = quadratic_run(mg, make, steps=6)
    first, optimizer = quadratic_run(mg, make, steps=3)
    mg.save(optimizer.state_dict(), tmp_path / "optimizer.npz")
    params = [nn.Parameter(mg.tensor(a)) for a in first[-1]]
    resumed = Adagrad(params, lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5)
    resumed.load_state_dict(mg.load(tmp_path / "optimizer.npz"))
    assert resumed.state_dict()["state"][0]["step"] == 3
    np.testing.assert_array_equal(resumed.state_dict()["state"][0]["sum"].numpy(),
                                  optimizer.state_dict()["state"][0]["sum"].numpy())
    assert not np.array_equal(resumed.state_dict()["state"][0]["sum"].numpy(), np.full((3, 4), 0.5))


def test_turning_amsgrad_on_later_adds_its_state():
    p = nn.Parameter(mg.ones(3))
    optimizer = Adam([p], lr=0.1)
    p.grad = mg.ones(3)
    optimizer.step()
    assert "max_exp_avg_sq" not in optimizer.state_dict()["state"][0]
    optimizer.param_groups[0]["amsgrad"] = True
    optimizer.step()
    np.testing.assert_allclose(optimizer.state_dict()["state"][0]["max_exp_avg_sq"].numpy(),
                               optimizer.state_dict()["state"][0]["exp_avg_sq"].numpy())


def test_a_state_dict_saved_without_the_newer_flags_still_loads():
    p = nn.Parameter(mg.ones(3))
    optimizer = Adam([p], lr=0.1)
    p.grad = mg.ones(3)
    optimizer.step()
    state = optimizer.state_dict()
    old_groups = [{k: v for k, v in group.items() if k in ("lr", "betas", "eps", "weight_decay", "params")}
                  for group in state["param_groups"]]
    fresh = Adam([nn.Parameter(mg.ones(3))], lr=0.5)
    fresh.load_state_dict({"state": state["state"], "param_groups": old_groups})
    assert fresh.param_groups[0]["lr"] == 0.1 and fresh.param_groups[0]["amsgrad"] is False


def test_a_parameter_listed_twice_warns_as_pytorch_and_is_updated_once():
    p = nn.Parameter(mg.ones(2))
    message = ("optimizer contains a parameter group with duplicate parameters; in future, this will cause an error; "
               "see github.com/pytorch/pytorch/issues/40967 for more information")
    with pytest.warns(UserWarning, match=message.replace("(", r"\(").replace(")", r"\)")):
        optimizer = SGD([p, p], lr=0.1)
    assert len(optimizer.param_groups[0]["params"]) == 1
    p.grad = mg.ones(2)
    optimizer.step()
    np.testing.assert_allclose(p.numpy(), [0.9, 0.9])
    with pytest.raises(ValueError, match="^some parameters appear in more than one parameter group$"):
        SGD([{"params": [p]}, {"params": [nn.Parameter(mg.ones(1)), p]}], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        SGD(p, lr=0.1)


@pytest.mark.parametrize("make", [lambda ps: Adam(ps, differentiable=True), lambda ps: SGD(ps, differentiable=True),
                                  lambda ps: Adagrad(ps, differentiable=True),
                                  lambda ps: AdamW(ps, differentiable=True)])
def test_differentiable_is_refused_naming_the_differences_page(make):
    with pytest.raises(NotImplementedError, match="differentiable=True .* docs/differences.md"):
        make([nn.Parameter(mg.zeros(2))])


@pytest.mark.parametrize("make, error, message", [
    (lambda ps: Adagrad(ps, lr_decay=-0.1), ValueError, "Adagrad: lr_decay must be >= 0"),
    (lambda ps: Adagrad(ps, initial_accumulator_value=-1), ValueError, "initial_accumulator_value must be >= 0"),
    (lambda ps: Adadelta(ps, rho=1.5), ValueError, r"Adadelta: rho must be in \[0, 1\]"),
    (lambda ps: AdamW(ps, betas=(0.9, 1.0)), ValueError, r"AdamW: betas\[1\] must be in"),
    (lambda ps: LBFGS(ps, history_size=0), ValueError, "history_size must be a positive integer"),
    (lambda ps: LBFGS(ps, line_search_fn="backtracking"), ValueError, "None or 'strong_wolfe'"),
    (lambda ps: LBFGS([{"params": ps[:1]}, {"params": ps[1:]}]), ValueError, "parameter groups"),
])
def test_bad_arguments_of_the_newer_optimizers(make, error, message):
    with pytest.raises(error, match=message):
        make([nn.Parameter(mg.zeros(2)), nn.Parameter(mg.zeros(1))])


def lbfgs_run(lib, steps=3, **options):
    """A least-squares problem with a quartic term, two parameters; the losses step() returned."""
    rng = np.random.default_rng(1)
    A, b, x0, w0 = rng.normal(size=(6, 4)), rng.normal(size=6), rng.normal(size=4), rng.normal(size=2)
    Parameter = nn.Parameter if lib is mg else lib.nn.Parameter
    x, w = Parameter(lib.tensor(x0)), Parameter(lib.tensor(w0))
    optimizer = lib.optim.LBFGS([x, w], **options)

    def closure():
        optimizer.zero_grad()
        r = lib.tensor(A) @ x - lib.tensor(b)
        loss = (r * r).sum() + (x ** 4).sum() + ((w - 1) ** 2).sum() * (x * x).sum()
        loss.backward()
        return loss

    losses = [float(optimizer.step(closure).detach()) for _ in range(steps)]
    return np.concatenate([x.detach().numpy(), w.detach().numpy()]), losses, optimizer


@pytest.mark.parametrize("options", [dict(), dict(line_search_fn="strong_wolfe"),
                                     dict(history_size=2, max_iter=7, lr=0.5),
                                     dict(history_size=3, max_iter=5, line_search_fn="strong_wolfe")],
                         ids=["plain", "strong wolfe", "short history", "short history, strong wolfe"])
def test_lbfgs_matches_pytorch(options):
    torch = pytest.importorskip("torch")
    ours, our_losses, mg_optimizer = lbfgs_run(mg, **options)
    theirs, their_losses, torch_optimizer = lbfgs_run(torch, **options)
    np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-10)
    assert our_losses[-1] < our_losses[0] / 2
    theirs_state = torch_optimizer.state_dict()["state"][0]
    mine = mg_optimizer.state_dict()["state"][0]
    assert (mine["func_evals"], mine["n_iter"]) == (theirs_state["func_evals"], theirs_state["n_iter"])
    assert len(mine["old_dirs"]) == len(theirs_state["old_dirs"])
    np.testing.assert_allclose(mine["d"].numpy(), theirs_state["d"].numpy(), rtol=1e-8, atol=1e-12)


def test_lbfgs_resumes_through_mg_save(tmp_path):
    whole, _, _ = lbfgs_run(mg, steps=2, max_iter=3, history_size=4)
    first, _, optimizer = lbfgs_run(mg, steps=1, max_iter=3, history_size=4)
    mg.save(optimizer.state_dict(), tmp_path / "lbfgs.npz")
    _, _, resumed = lbfgs_run(mg, steps=1, max_iter=3, history_size=4)
    resumed.load_state_dict(mg.load(tmp_path / "lbfgs.npz"))
    # continue the same problem from the saved parameters with the loaded state
    x, w = resumed.param_groups[0]["params"]
    x.data, w.data = mg.tensor(first[:4]), mg.tensor(first[4:])
    rng = np.random.default_rng(1)
    A, b = rng.normal(size=(6, 4)), rng.normal(size=6)

    def closure():
        resumed.zero_grad()
        r = mg.tensor(A) @ x - mg.tensor(b)
        loss = (r * r).sum() + (x ** 4).sum() + ((w - 1) ** 2).sum() * (x * x).sum()
        loss.backward()
        return loss

    resumed.step(closure)
    np.testing.assert_array_equal(np.concatenate([x.numpy(), w.numpy()]), whole)


def test_lbfgs_needs_a_closure():
    optimizer = LBFGS([nn.Parameter(mg.zeros(2))])
    with pytest.raises(TypeError, match="needs a closure"):
        optimizer.step()


def test_step_takes_a_closure_and_returns_its_loss():
    p = nn.Parameter(mg.tensor([1.0, 2.0]))
    optimizer = SGD([p], lr=0.1)

    def closure():
        optimizer.zero_grad()
        loss = (p * p).sum()
        loss.backward()
        return loss

    loss = optimizer.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_allclose(p.numpy(), [0.8, 1.6], rtol=1e-6)


# --- the schedules against PyTorch's, step by step -------------------------------------------------

SCHEDULES = {
    "multistep": lambda s, o: s.MultiStepLR(o, [3, 7, 7, 12], gamma=0.5),
    "exponential": lambda s, o: s.ExponentialLR(o, 0.9),
    "cosine": lambda s, o: s.CosineAnnealingLR(o, T_max=7, eta_min=0.01),
    "linear warm-up": lambda s, o: s.LinearLR(o, start_factor=0.1, total_iters=6),
    "linear down": lambda s, o: s.LinearLR(o, start_factor=0.5, end_factor=0.2, total_iters=4),
    "one cycle": lambda s, o: s.OneCycleLR(o, max_lr=[0.5, 1.0], total_steps=30),
    "one cycle three phases": lambda s, o: s.OneCycleLR(o, max_lr=0.5, epochs=3, steps_per_epoch=10,
                                                        anneal_strategy="linear", three_phase=True),
    "plateau": lambda s, o: s.ReduceLROnPlateau(o, patience=2, cooldown=1, min_lr=[0.01, 0.05]),
    "plateau max abs": lambda s, o: s.ReduceLROnPlateau(o, mode="max", patience=1, threshold_mode="abs",
                                                        threshold=0.05, factor=0.5),
}


def scheduled_rates(lib, make_schedule, make_optimizer, steps=30):
    """(rates, momenta) of both groups after each step; ReduceLROnPlateau gets a wandering metric."""
    Parameter = nn.Parameter if lib is mg else lib.nn.Parameter
    params = [Parameter(lib.zeros(2)), Parameter(lib.zeros(1))]
    optimizer = make_optimizer(lib.optim, params)
    schedule = make_schedule(lib.optim.lr_scheduler, optimizer)
    metrics = np.cumsum(np.random.default_rng(0).normal(size=steps)) * 0.1 + 5
    history = [schedule.get_last_lr()]
    for metric in metrics:
        if lib is not mg:
            optimizer.step()  # PyTorch warns when a schedule steps before the optimiser
        schedule.step(float(metric)) if "Plateau" in type(schedule).__name__ else schedule.step()
        history.append(schedule.get_last_lr() + [g["lr"] for g in optimizer.param_groups]
                       + [g.get("momentum", g.get("betas")) for g in optimizer.param_groups])
    return history, schedule


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("name", SCHEDULES)
def test_schedules_match_pytorch_to_the_last_bit(name, optimizer):
    torch = pytest.importorskip("torch")
    make_optimizer = {"sgd": lambda optim, ps: optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], lr=1.0,
                                                         momentum=0.9),
                      "adam": lambda optim, ps: optim.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], lr=1.0)}
    ours, schedule = scheduled_rates(mg, SCHEDULES[name], make_optimizer[optimizer])
    theirs, _ = scheduled_rates(torch, SCHEDULES[name], make_optimizer[optimizer])
    assert ours == theirs
    assert len({tuple(rates[:2]) for rates in ours}) > 2  # the rate did change
    assert schedule.last_epoch == 30


@pytest.mark.parametrize("name", ["multistep", "cosine", "one cycle", "plateau"])
def test_new_schedules_resume_through_mg_save(name, tmp_path):
    make_optimizer = lambda optim, ps: optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.3}], lr=1.0,  # noqa
                                                 momentum=0.9)
    whole, _ = scheduled_rates(mg, SCHEDULES[name], make_optimizer, steps=20)
    _, schedule = scheduled_rates(mg, SCHEDULES[name], make_optimizer, steps=10)
    mg.save({"schedule": schedule.state_dict(), "optimizer": schedule.optimizer.state_dict()}, tmp_path / "s.npz")
    checkpoint = mg.load(tmp_path / "s.npz")
    params = [nn.Parameter(mg.zeros(2)), nn.Parameter(mg.zeros(1))]
    optimizer = make_optimizer(mg.optim, params)
    resumed = SCHEDULES[name](mg.optim.lr_scheduler, optimizer)
    optimizer.load_state_dict(checkpoint["optimizer"])
    resumed.load_state_dict(checkpoint["schedule"])
    metrics = np.cumsum(np.random.default_rng(0).normal(size=20)) * 0.1 + 5
    for step, metric in enumerate(metrics[10:], start=11):
        resumed.step(float(metric)) if name == "plateau" else resumed.step()
        assert resumed.get_last_lr() == whole[step][:2]


def test_new_schedules_check_their_arguments():
    from minigrad.optim import lr_scheduler
    optimizer = SGD([nn.Parameter(mg.zeros(2))], lr=1.0)
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        lr_scheduler.LinearLR(optimizer, start_factor=0)
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(optimizer, max_lr=0.1)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(optimizer, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown"):
        lr_scheduler.ReduceLROnPlateau(optimizer, mode="avg")
    with pytest.raises(ValueError, match="T_max must be an integer >= 1"):
        lr_scheduler.CosineAnnealingLR(optimizer, T_max=0)
    with pytest.raises(ValueError, match="optimizer must support momentum"):
        lr_scheduler.OneCycleLR(Adagrad([nn.Parameter(mg.zeros(2))]), max_lr=0.1, total_steps=5)
    schedule = lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=2)
    schedule.step()
    schedule.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        schedule.step()


# --- Adamax ---------------------------------------------------------------------------------------

def reference_adamax(params, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
    """Kingma & Ba's Adamax (section 7.1) as PyTorch writes it: u = max(beta2 u, |g| + eps)."""
    beta1, beta2 = betas
    params = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    u = [np.zeros_like(p) for p in params]
    history = []
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            g = g + weight_decay * params[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            u[i] = np.maximum(beta2 * u[i], np.abs(g) + eps)
            params[i] = params[i] - lr / (1 - beta1 ** t) * m[i] / u[i]
        history.append([p.copy() for p in params])
    return history


@pytest.mark.parametrize("options", [dict(), dict(lr=0.01, betas=(0.8, 0.99)), dict(lr=0.05, eps=0.1, weight_decay=0.1)],
                         ids=["defaults", "lr and betas", "eps and weight decay"])
def test_adamax_matches_the_formula(options):
    from minigrad.optim import Adamax
    initial, grads = random_problem(2)
    history, params, _ = run_optimizer(lambda ps: Adamax(ps, **options), initial, grads)
    assert_histories_close(history, reference_adamax(initial, grads, **options))
    assert not np.allclose(history[-1][0], initial[0])


def test_adamax_defaults_state_and_checks_are_pytorchs():
    from minigrad.optim import Adamax
    p = nn.Parameter(mg.tensor([1.0, -2.0], dtype=mg.float64))
    optimizer = Adamax([p])
    assert optimizer.defaults == dict(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None,
                                      maximize=False, differentiable=False, capturable=False)
    p.grad = mg.tensor([0.5, -1.0], dtype=mg.float64)
    optimizer.step()
    # the first step: m = 0.1 g, u = |g| + eps, so p moves by lr * g / (|g| + eps), about lr * sign(g)
    np.testing.assert_allclose(p.numpy(), [1.0 - 2e-3, -2.0 + 2e-3], rtol=1e-7)
    state = optimizer.state_dict()["state"][0]
    assert set(state) == {"step", "exp_avg", "exp_inf"} and state["step"] == 1
    np.testing.assert_allclose(state["exp_inf"].numpy(), [0.5 + 1e-8, 1.0 + 1e-8])
    with pytest.raises(ValueError, match="betas\\[1\\]"):
        Adamax([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="lr"):
        Adamax([p], lr=-1.0)
    with pytest.raises(TypeError, match="betas"):
        Adamax([p], betas=0.9)


# --- the compiled one-pass updates (numba) against the NumPy array operations ----------------------
# kernels.adam and kernels.rmsprop do Adam.update's and RMSprop.update's arithmetic in the same
# order, one element at a time, in the parameters' dtype: the same numbers, bit for bit.

from minigrad import kernels  # noqa: E402
from minigrad.optim import RMSprop  # noqa: E402

ONE_PASS = {
    "adam": lambda ps: Adam(ps, lr=0.01),
    "adam decay maximize": lambda ps: Adam(ps, lr=0.01, betas=(0.5, 0.9), weight_decay=0.1, maximize=True),
    "adamw": lambda ps: AdamW(ps, lr=0.05, weight_decay=0.2),
    "adamw maximize eps": lambda ps: AdamW(ps, lr=0.05, eps=0.1, maximize=True),
    "adam amsgrad (NumPy)": lambda ps: Adam(ps, lr=0.01, amsgrad=True),
    "rmsprop": lambda ps: RMSprop(ps, lr=0.01),
    "rmsprop centered momentum": lambda ps: RMSprop(ps, lr=0.01, alpha=0.9, centered=True, momentum=0.8),
    "rmsprop decay maximize": lambda ps: RMSprop(ps, lr=0.01, momentum=0.5, weight_decay=0.1, maximize=True),
}


def on_both_paths(monkeypatch, make, initial, grads):
    """The run on NumPy's array operations, and the run on the compiled loops (with how often they
    ran)."""
    kernels_numba = pytest.importorskip("minigrad.kernels_numba")
    monkeypatch.setattr(kernels, "adam", None)
    monkeypatch.setattr(kernels, "rmsprop", None)
    monkeypatch.setattr(kernels, "COMPILED", False)
    on_numpy, _, _ = run_optimizer(make, initial, grads)
    calls = []
    for name in ("adam", "rmsprop"):
        kernel = getattr(kernels_numba, name)
        monkeypatch.setattr(kernels, name, lambda *args, kernel=kernel: calls.append(1) or kernel(*args))
    monkeypatch.setattr(kernels, "compiled", kernels_numba)
    monkeypatch.setattr(kernels, "COMPILED", True)
    compiled, _, _ = run_optimizer(make, initial, grads)
    return on_numpy, compiled, len(calls)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ONE_PASS)
def test_the_compiled_update_gives_the_numpy_updates_numbers(name, dtype, monkeypatch):
    """20 steps on random parameters and gradients (large and small), one parameter skipped at
    steps 5 and 6 (its step count then differs): the same parameters after every step."""
    initial, grads = random_problem(4, steps=20, shapes=[(300, 7), (5,), ()])
    initial = [a.astype(dtype) for a in initial]
    grads = [[None if (i == 1 and t in (4, 5)) else g.astype(dtype) for i, g in enumerate(gs)]
             for t, gs in enumerate(grads)]
    on_numpy, compiled, calls = on_both_paths(monkeypatch, ONE_PASS[name], initial, grads)
    # Adam's loop takes a group whose parameters are all at one step in one call (steps 1-4); RMSprop's,
    # and Adam's once parameter 1's step count lags, one call per parameter with a gradient
    one_per_parameter = 3 * 20 - 2
    assert calls == (0 if "amsgrad" in name else 4 + (one_per_parameter - 3 * 4) if "adam" in name
                     else one_per_parameter)
    assert compiled[-1][0].dtype == dtype
    assert not np.allclose(compiled[-1][0], initial[0])
    for step, (got, want) in enumerate(zip(compiled, on_numpy)):
        for i, (a, b) in enumerate(zip(got, want)):
            np.testing.assert_array_equal(a, b, err_msg=f"step {step + 1}, parameter {i}")


def test_the_compiled_update_leaves_the_gradient_alone(monkeypatch):
    kernels_numba = pytest.importorskip("minigrad.kernels_numba")
    monkeypatch.setattr(kernels, "adam", kernels_numba.adam)
    monkeypatch.setattr(kernels, "compiled", kernels_numba)
    monkeypatch.setattr(kernels, "COMPILED", True)
    p = nn.Parameter(mg.tensor([1.0, -2.0, 3.0], dtype=mg.float32))
    p.grad = mg.tensor([0.5, -1.0, 2.0], dtype=mg.float32)
    Adam([p], lr=0.1, weight_decay=0.25, maximize=True).step()
    np.testing.assert_array_equal(p.grad.numpy(), np.float32([0.5, -1.0, 2.0]))
    # the first step moves each element by lr against the sign of g = -grad + 0.25 p = (-0.25, 0.5, -1.25)
    np.testing.assert_allclose(p.numpy(), [1.0 + 0.1, -2.0 - 0.1, 3.0 + 0.1], rtol=1e-6)
