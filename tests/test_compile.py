"""mg.compile: a captured training step gives what the eager step gives, call after call.

Each test trains twice from the same seed, once eagerly and once through mg.compile, and compares
the losses and every parameter bit for bit: a replayed tape runs the same forward functions on
the same arrays in the same order, so nothing is allowed to differ.
"""

import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
from benchmarks import workloads
from minigrad import kernels, parallel
from minigrad.compile import CapturedStep, Tape

STEPS = 6  # call 1 eager, calls 2-3 recorded, calls 4-6 replayed


def _state(*modules):
    return [t.array.copy() for m in modules for t in list(m.parameters()) + list(m.buffers())]


def _train(name, compiled, steps=STEPS):
    mg.manual_seed(0)
    w = workloads.WORKLOADS[name](mg)
    step = mg.compile(w.step) if compiled else w.step
    losses = [step().array.copy() for _ in range(steps)]
    return losses, _state(w.G, w.D), step


def _assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def _replays(step):
    """Whether the step ended replaying a tape (rather than running eagerly)."""
    return step.refused is None and any(isinstance(case, Tape) for case in step.cases.values())


@pytest.mark.parametrize("name", ["book_batch1", "mlp_gan", "dcgan", "wgan_gp"])
def test_the_benchmark_steps_replay_bit_for_bit(name):
    # book_batch1: the book's MLP GAN at batch 1 (LayerNorm, BCE, Adam), three optimiser steps a call;
    # mlp_gan: dropout (fresh masks drawn in eager order) and the gradients run at once (together);
    # dcgan: BatchNorm's running statistics; wgan_gp: the penalty through autograd.grad(create_graph=True).
    steps = 4 if name in ("dcgan", "wgan_gp") else STEPS
    eager_losses, eager_state, _ = _train(name, False, steps)
    losses, state, step = _train(name, True, steps)
    assert _replays(step)
    _assert_same(eager_losses, losses)
    _assert_same(eager_state, state)


def _classifier():
    mg.manual_seed(1)
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 5))
    optimizer = mg.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def train_step(x, y):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        return loss
    return model, train_step


def _batches(sizes, seed=2):
    rng = np.random.default_rng(seed)
    return [(mg.tensor(rng.standard_normal((n, 20)).astype(np.float32)), mg.tensor(rng.integers(0, 5, n)))
            for n in sizes]


def test_a_classifier_step_on_new_batches_each_call():
    sizes = [8] * 8
    model_a, eager = _classifier()
    eager_losses = [eager(x, y).array.copy() for x, y in _batches(sizes)]
    model_b, train_step = _classifier()
    step = mg.compile(train_step)
    losses = [step(x, y).array.copy() for x, y in _batches(sizes)]
    assert _replays(step)
    _assert_same(eager_losses, losses)
    _assert_same(_state(model_a), _state(model_b))


def test_a_new_batch_size_records_a_new_tape_and_stays_exact():
    sizes = [8, 8, 8, 8, 3, 3, 3, 3, 8, 8, 5]
    model_a, eager = _classifier()
    eager_losses = [eager(x, y).array.copy() for x, y in _batches(sizes)]
    model_b, train_step = _classifier()
    step = mg.compile(train_step)
    losses = [step(x, y).array.copy() for x, y in _batches(sizes)]
    _assert_same(eager_losses, losses)
    _assert_same(_state(model_a), _state(model_b))
    kinds = {key[0][0][1]: type(case).__name__ for key, case in step.cases.items()}
    assert kinds == {(8, 20): "Tape", (3, 20): "Tape", (5, 20): "list"}  # batch 5: seen once, eager


def test_the_arguments_are_copied_in_and_the_callers_tensors_are_left_alone():
    _, train_step = _classifier()
    step = mg.compile(train_step)
    batches = _batches([4] * 6)
    kept = [(x.array.copy(), y.array.copy()) for x, y in batches]
    results = [step(x, y) for x, y in batches]
    for (x, y), (x0, y0) in zip(batches, kept):
        np.testing.assert_array_equal(x.array, x0)
        np.testing.assert_array_equal(y.array, y0)
    # each result is a tensor of its own: a later replay does not change an earlier loss
    values = [r.item() for r in results]
    assert len(set(values)) == len(values)
    assert all(r.grad_fn is None and not r.requires_grad for r in results[1:])  # values, without a graph


def test_noise_drawn_inside_the_step_is_drawn_again_each_replay():
    def setup():
        mg.manual_seed(3)
        G = nn.Sequential(nn.Linear(4, 8), nn.Tanh())
        opt = mg.optim.Adam(G.parameters(), lr=0.01)

        def train_step():
            opt.zero_grad()
            loss = (G(mg.randn(2, 4)) ** 2).mean()
            loss.backward()
            opt.step()
            return loss
        return G, train_step
    G_a, eager = setup()
    eager_losses = [eager().array.copy() for _ in range(STEPS)]
    G_b, train_step = setup()
    step = mg.compile(train_step)
    losses = [step().array.copy() for _ in range(STEPS)]
    assert _replays(step)
    assert len({float(v) for v in losses}) == STEPS  # new noise each call, not the recorded one
    _assert_same(eager_losses, losses)
    _assert_same(_state(G_a), _state(G_b))


def test_replaced_parameters_are_noticed_and_the_step_recorded_again():
    model_a, eager = _classifier()
    model_b, train_step = _classifier()
    step = mg.compile(train_step)
    batches = _batches([4] * 10)
    for i, (x, y) in enumerate(batches):
        if i == 6:  # after three replays, the parameters get new arrays
            for model in (model_a, model_b):
                model.load_state_dict({k: v * 0.5 for k, v in model.state_dict().items()})
                for p in model.parameters():
                    p.data = p.data.clone()
        np.testing.assert_array_equal(eager(x, y).array, step(x, y).array)
    _assert_same(_state(model_a), _state(model_b))


def _refused_with(train_step, reason, *args_per_call):
    step = mg.compile(train_step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = [step(*args) for args in args_per_call]
    assert step.refused is not None and reason in step.refused
    messages = [str(w.message) for w in caught if "mg.compile" in str(w.message)]
    assert len(messages) == 1 and reason in messages[0]
    return results


def test_reading_a_value_on_the_host_makes_the_step_run_eagerly():
    model_a, eager = _classifier()
    model_b, train_step = _classifier()
    eager_values = [eager(x, y).item() for x, y in _batches([4] * 5)]
    values = _refused_with(lambda x, y: train_step(x, y).item(), "Tensor.item", *_batches([4] * 5))
    assert values == eager_values
    _assert_same(_state(model_a), _state(model_b))


def test_an_array_made_outside_the_ops_each_call_makes_the_step_run_eagerly():
    w = mg.ones(3)

    for make, reason in ((mg.from_numpy, "made outside"), (lambda a: mg.tensor(a), "other arguments")):
        def train_step(x):
            shift = make(np.asarray(x.array * 2))  # made by NumPy from the data: a tape cannot follow it
            return ((w * x + shift) ** 2).sum()
        values = _refused_with(train_step, reason, *[(mg.tensor([1.0, 2.0, float(i)]),) for i in range(4)])
        assert [v.item() for v in values] == [((np.array([1, 2, i]) * 3.0) ** 2).sum() for i in range(4)]


def test_retain_grad_makes_the_step_run_eagerly_and_backward_inputs_replays():
    w = mg.ones(3, requires_grad=True)

    def retaining(x):
        h = w * x
        h.retain_grad()  # a tape would not keep h's gradient
        (h * h).sum().backward()
        return h.grad
    grads = _refused_with(retaining, "retain_grad", *[(mg.tensor([1.0, 2.0, float(i)]),) for i in range(4)])
    assert [g.tolist() for g in grads] == [[2.0, 4.0, 2.0 * i] for i in range(4)]
    v, u = mg.ones(3, requires_grad=True), mg.ones(3, requires_grad=True)

    def only_v(x):
        (v * u * x).sum().backward(inputs=[v])
    step = mg.compile(only_v)
    for i in range(4):
        step(mg.tensor([1.0, 2.0, float(i)]))
    assert step.refused is None and v.grad.tolist() == [4.0, 8.0, 6.0] and u.grad is None


def test_a_write_into_a_tensor_under_autograd_makes_the_step_run_eagerly():
    w = mg.ones(3, requires_grad=True)

    def train_step(x):
        y = w * x
        y.mul_(2)  # recorded in the graph: only an op on the tape could replay it
        y.sum().backward()
        return y.detach()
    _refused_with(train_step, "in place", *[(mg.tensor([1.0, 2.0, 3.0]),) for _ in range(4)])
    np.testing.assert_array_equal(w.grad.array, 4 * 2 * np.array([1.0, 2.0, 3.0]))


def test_a_step_that_returns_a_live_graph_runs_eagerly_and_keeps_it():
    w = mg.ones(3, requires_grad=True)
    forward = mg.compile(lambda x: (w * x).sum())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = [forward(mg.tensor([1.0, 2.0, 3.0])) for _ in range(4)]
    for out in outs:  # the recorded call's result too: it is the step's own, with its graph
        out.backward()
    np.testing.assert_array_equal(w.grad.array, 4 * np.array([1.0, 2.0, 3.0]))
    assert "graph" in forward.refused


def test_writes_outside_the_graph_replay_as_calls():
    # a fixed noise buffer refilled in place, and a counter: both are calls the tape makes again
    def setup():
        mg.manual_seed(4)
        G = nn.Linear(3, 3)
        opt = mg.optim.SGD(G.parameters(), lr=0.1)
        noise, count = mg.zeros(2, 3), mg.zeros(())

        def train_step():
            noise.normal_()
            count.add_(1)
            opt.zero_grad()
            loss = G(noise).square().mean()
            loss.backward()
            opt.step()
            return loss
        return G, count, train_step
    G_a, count_a, eager = setup()
    eager_losses = [eager().array.copy() for _ in range(STEPS)]
    G_b, count_b, train_step = setup()
    step = mg.compile(train_step)
    losses = [step().array.copy() for _ in range(STEPS)]
    assert _replays(step)
    _assert_same(eager_losses, losses)
    _assert_same(_state(G_a), _state(G_b))
    assert count_b.item() == STEPS


def test_the_api_is_torch_compiles():
    def f(x):
        return x * 2
    assert isinstance(mg.compile(f), CapturedStep)
    assert mg.compile(f, disable=True) is f
    assert isinstance(mg.compile(mode="reduce-overhead")(f), CapturedStep)
    model = nn.Linear(2, 2)
    assert mg.compile(model) is model  # a model's forward alone is not captured (docs/differences.md)

    @mg.compile
    def g(x):
        return x + 1
    assert g.__name__ == "g"
    for _ in range(5):
        np.testing.assert_array_equal(g(mg.tensor([1.0, 2.0])).array, [2.0, 3.0])
    assert _replays(g)
    with pytest.raises(TypeError, match="expects a function"):
        mg.compile(3)


def test_a_gradient_that_reaches_its_leaf_through_a_view():
    # b's gradient is summed over the batch and reshaped to (3,): the reshape is a view, which the tape
    # does not replay, and the sum it views must still reach b.grad each call
    def setup():
        b = nn.Parameter(mg.zeros(3))
        opt = mg.optim.SGD([b], lr=0.1)

        def train_step(x):
            opt.zero_grad()
            loss = ((x + b) ** 2).sum()
            loss.backward()
            opt.step()
            return loss
        return b, train_step
    xs = [mg.tensor(np.random.default_rng(i).standard_normal((2, 3)).astype(np.float32)) for i in range(STEPS)]
    b_a, eager = setup()
    eager_losses = [eager(x).array.copy() for x in xs]
    b_b, train_step = setup()
    step = mg.compile(train_step)
    losses = [step(x).array.copy() for x in xs]
    assert _replays(step)
    _assert_same(eager_losses, losses)
    np.testing.assert_array_equal(b_a.array, b_b.array)


def test_a_step_on_each_device_replays_bit_for_bit(device):
    def setup():
        mg.manual_seed(5)
        model = nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.LayerNorm(16), nn.Linear(16, 1),
                              nn.Sigmoid()).to(device)
        opt = mg.optim.Adam(model.parameters(), lr=0.01)

        def train_step(x, y):
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss
        return model, train_step
    rng = np.random.default_rng(6)
    batches = [(mg.tensor(rng.standard_normal((4, 6)).astype(np.float32)).to(device),
                mg.tensor(rng.integers(0, 2, (4, 1)).astype(np.float32)).to(device)) for _ in range(STEPS)]
    model_a, eager = setup()
    eager_losses = [eager(x, y).cpu().numpy() for x, y in batches]
    model_b, train_step = setup()
    step = mg.compile(train_step)
    losses = [step(x, y).cpu().numpy() for x, y in batches]
    assert _replays(step)
    _assert_same(eager_losses, losses)
    _assert_same([p.cpu().numpy() for p in model_a.parameters()], [p.cpu().numpy() for p in model_b.parameters()])


def test_an_argument_that_requires_grad_makes_the_step_run_eagerly_with_its_gradient():
    w = mg.ones(3, requires_grad=True)

    def forward(x):
        return (w * x).sum()
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    outs = _refused_with(forward, "requires grad", *[(x,)] * 4)
    for out in outs:
        out.backward()
    np.testing.assert_array_equal(x.grad.array, 4 * np.ones(3))  # every call's graph reached x itself
    np.testing.assert_array_equal(w.grad.array, 4 * np.array([1.0, 2.0, 3.0]))


def test_running_statistics_written_outside_an_op_make_the_step_run_eagerly():
    # InstanceNorm moves its running statistics outside its op: a tape would not replay that write
    norm = nn.InstanceNorm2d(2, track_running_stats=True)
    w = nn.Parameter(mg.ones(1, 2, 1, 1))

    def train_step(x):
        loss = (norm(x) * w).square().mean()
        loss.backward()
        return loss.detach()
    xs = [(mg.tensor(np.random.default_rng(i).standard_normal((2, 2, 3, 3)).astype(np.float32)),) for i in range(4)]
    _refused_with(train_step, "writes into a tensor", *xs)
    expected = np.zeros(2)
    for (x,) in xs:  # every call moved the running mean, as eagerly
        expected = 0.9 * expected + 0.1 * x.array.mean(axis=(2, 3)).mean(axis=0)
    np.testing.assert_allclose(norm.running_mean.array, expected, rtol=1e-5, atol=1e-7)


def test_random_labels_one_hot_encoded_inside_the_step_are_drawn_again_each_replay():
    def setup():
        mg.manual_seed(7)
        G = nn.Linear(3 + 4, 2)
        opt = mg.optim.SGD(G.parameters(), lr=0.1)

        def train_step(z):
            opt.zero_grad()
            labels = nn.functional.one_hot(mg.randint(0, 4, (2,)), 4).float()  # a conditional GAN's labels
            loss = G(mg.cat([z, labels], dim=1)).square().mean()
            loss.backward()
            opt.step()
            return loss, labels
        return G, train_step
    zs = [mg.tensor(np.random.default_rng(i).standard_normal((2, 3)).astype(np.float32)) for i in range(STEPS)]
    G_a, eager = setup()
    eager_out = [[t.array.copy() for t in eager(z)] for z in zs]
    G_b, train_step = setup()
    step = mg.compile(train_step)
    out = [[t.array.copy() for t in step(z)] for z in zs]
    assert _replays(step)
    for a, b in zip(eager_out, out):
        _assert_same(a, b)
    assert len({b[1].tobytes() for b in out}) > 1  # the labels change from call to call
    _assert_same(_state(G_a), _state(G_b))


def test_what_a_fused_op_saved_is_handed_on_not_copied():
    """BatchNorm's closed-form backward reads what its forward saved (the centred rows) and its input
    tensor; BCE keeps its target, an array from outside. At replay they are each call's new arrays,
    handed on as eager hands them on, not copied into the recorded ones: no activation-sized array
    is among the tape's buffers. And the step is still eager's, bit for bit."""
    def run(compiled):
        mg.manual_seed(3)
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
                              nn.Conv2d(4, 1, 6), nn.Sigmoid())  # (no Flatten: a view holds what it views)
        optimizer = mg.optim.Adam(model.parameters(), lr=1e-2)
        x, y = mg.randn(8, 1, 6, 6), mg.ones(8, 1, 1, 1)

        def train_step():
            optimizer.zero_grad()
            loss = nn.functional.binary_cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            return loss
        step = mg.compile(train_step) if compiled else train_step
        return [step().array.copy() for _ in range(STEPS)], _state(model), step

    eager_losses, eager_state, _ = run(False)
    losses, state, step = run(True)
    assert _replays(step)
    _assert_same(eager_losses, losses)
    _assert_same(eager_state, state)
    tape, = [case for case in step.cases.values() if isinstance(case, Tape)]
    activation = 8 * 4 * 6 * 6
    assert not [b.shape for b in tape.buffers if b.size >= activation]


def test_a_capture_holds_one_calls_arrays_and_a_replay_no_more_than_eager():
    """Memory, measured with tracemalloc (NumPy reports its arrays to it): while the second call is
    recorded the first recording is no longer held (only what it did, for the comparison), and
    between replays the tape holds no activation, saved value or input of the last call beyond its
    own buffers, as eager frees its graph after backward; a replay's peak is no higher than an
    eager step's."""
    import tracemalloc

    def run(compiled):
        mg.manual_seed(5)
        model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.LeakyReLU(0.2),
                              nn.Conv2d(8, 8, 3, padding=1), nn.LeakyReLU(0.2), nn.Dropout(0.5),
                              nn.Flatten(), nn.Linear(8 * 16 * 16, 1), nn.Sigmoid())
        optimizer = mg.optim.Adam(model.parameters(), lr=1e-3)
        x, y = mg.randn(32, 1, 16, 16), mg.ones(32, 1)

        def train_step():
            optimizer.zero_grad()
            loss = nn.functional.binary_cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            return loss
        step = mg.compile(train_step) if compiled else train_step
        tracemalloc.start()
        try:
            base, memory = tracemalloc.get_traced_memory()[0], []
            for _ in range(STEPS):
                tracemalloc.reset_peak()
                step()
                now, peak = tracemalloc.get_traced_memory()
                memory.append((now - base, peak - base))
        finally:
            tracemalloc.stop()
        return memory, step

    run(False)  # the process's first steps make lasting things (compiled kernels, threads): not measured
    eager, _ = run(False)
    captured, step = run(True)
    assert _replays(step)
    (_, first_recording), (_, second_recording) = captured[1], captured[2]
    assert second_recording < 1.15 * first_recording, (first_recording, second_recording)
    eager_held, eager_peak = eager[-1]
    tape, = [case for case in step.cases.values() if isinstance(case, Tape)]
    buffers = sum(b.nbytes for b in tape.buffers)  # what it writes into: Flatten's views and what they view
    assert buffers <= 4 * 32 * 8 * 16 * 16 * 4 + 4096  # forward and backward, 256 KB each
    for held, peak in captured[3:]:  # the replays
        assert held <= eager_held + buffers + 64 * 1024, (held, eager_held, buffers)
        assert peak <= 1.05 * eager_peak, (peak, eager_peak)


# --- a replay hands dL/dW to the other core, as backward does ------------------------------------

def _counting_laters(monkeypatch):
    made = []
    later_init = parallel.Later.__init__
    monkeypatch.setattr(parallel.Later, "__init__", lambda self, call: made.append(1) or later_init(self, call))
    return made


def test_a_replay_hands_weight_gradients_on_as_laters_and_gives_the_eager_values(threads, monkeypatch):
    # mlp_gan: D's gradients of two backward passes added into the same .grad before one step, then G's
    # through D; the replay's Laters (every dL/dW, the threshold lowered) against one thread, eagerly
    monkeypatch.setattr(parallel, "LATER_MIN", 1)
    threads(1)
    eager_losses, eager_state, _ = _train("mlp_gan", False)
    threads(2)
    made = _counting_laters(monkeypatch)
    mg.manual_seed(0)
    w = workloads.WORKLOADS["mlp_gan"](mg)
    step = mg.compile(w.step)
    losses = [step().array.copy() for _ in range(3)]
    before = len(made)
    losses += [step().array.copy() for _ in range(STEPS - 3)]
    assert _replays(step)
    assert len(made) - before >= 3 * 10  # each replay: D's 3 + 3 layers, G's 3 (+ D's 3 in G's pass), less D's first
    _assert_same(eager_losses, losses)
    _assert_same(eager_state, _state(w.G, w.D))


@pytest.mark.parametrize("set_to_none", [True, False])
def test_a_step_that_reads_gradients_before_the_last_backward_replays_them_as_eager(threads, monkeypatch,
                                                                                   set_to_none):
    # The first pass's gradients are read (their squared norm) before a second pass adds into them: the
    # replay waits for the Laters before the read, and adds each gradient into .grad where eager did
    # (into .grad's own array, kept by zero_grad(set_to_none=False), before the read).
    monkeypatch.setattr(parallel, "LATER_MIN", 1)

    def run(compiled):
        mg.manual_seed(3)
        model = nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 1))
        optimizer = mg.optim.Adam(model.parameters(), lr=0.01)

        def train_step(x):
            optimizer.zero_grad(set_to_none=set_to_none)
            model(x).pow(2).mean().backward()
            norm = sum((p.grad * p.grad).sum() for p in model.parameters())
            (model(x * 2).mean() * norm).backward()
            optimizer.step()
            return norm
        step = mg.compile(train_step) if compiled else train_step
        xs = [mg.tensor(np.random.default_rng(i).standard_normal((8, 6)).astype(np.float32)) for i in range(STEPS)]
        norms = [step(x).array.copy() for x in xs[:3]]
        replayed = len(made)
        norms += [step(x).array.copy() for x in xs[3:]]
        return norms, _state(model), step, len(made) - replayed

    made = _counting_laters(monkeypatch)
    threads(1)
    eager_norms, eager_state, _, _ = run(False)
    threads(2)
    norms, state, step, laters = run(True)
    assert _replays(step) and laters >= 3 * 4  # each replay: 2 layers in the first pass, 2 in the second
    _assert_same(eager_norms, norms)
    _assert_same(eager_state, state)


def test_an_error_in_a_later_of_a_replay_reaches_the_caller_and_leaves_nothing_running(threads, monkeypatch,
                                                                                      restore_ops):
    monkeypatch.setattr(parallel, "LATER_MIN", 1)
    threads(2)
    failing = []

    class WeightGrad(mg.autograd.Function):  # x^T g, failing when asked to
        def forward(self, x, grad):
            if failing:
                raise ValueError("dL/dW failed")
            return x.T @ grad

    class Product(mg.autograd.Function):  # x w, its dL/dw by WeightGrad
        def forward(self, x, w):
            return x @ w

        def backward(self, grad):
            x, w = self.inputs
            return tuple(kernels.together(10**9, lambda: grad @ w.T, lambda: WeightGrad.apply(x, grad)))

    x, w = mg.randn(4, 3), nn.Parameter(mg.randn(3, 2))
    h = nn.Parameter(mg.randn(2, 2))
    optimizer = mg.optim.SGD([w, h], lr=0.1)

    def train_step():
        optimizer.zero_grad()
        loss = Product.apply(Product.apply(x, w).tanh(), h).sum()
        loss.backward()
        optimizer.step()
        return loss
    step = mg.compile(train_step)
    for _ in range(4):
        step()
    tape, = [case for case in step.cases.values() if isinstance(case, Tape)]
    failing.append(True)
    with pytest.raises(ValueError, match="dL/dW failed"):
        step()
    assert tape.slots and not any(tape.slots)  # nothing waits for the Laters any more
    assert not step.cases  # the half-replayed tape is gone: the next call records afresh
    failing.clear()
    assert np.isfinite(step().item())


def test_a_weights_summed_gradients_wait_for_the_end_of_the_stretch_and_draws_keep_their_order(threads,
                                                                                             monkeypatch):
    # Each layer is used twice, so backward sums its two dL/dW (Laters here): the replay adds them up
    # at the end of the stretch, with the accumulation into .grad. A dropout nothing reads (an op
    # that draws random numbers) stays before the draw that follows it, as eager drew them.
    monkeypatch.setattr(parallel, "LATER_MIN", 1)

    def run(compiled):
        mg.manual_seed(4)
        shared, head = nn.Linear(6, 16), nn.Linear(16, 1)
        optimizer = mg.optim.SGD(list(shared.parameters()) + list(head.parameters()), lr=0.05)

        def train_step(x, y):
            optimizer.zero_grad()
            loss = (head(shared(x).tanh()) + head(shared(y).tanh())).pow(2).mean()
            loss.backward()
            nn.functional.dropout(mg.ones(4), 0.5)
            noise = mg.randn(3)
            optimizer.step()
            return loss, noise
        step = mg.compile(train_step) if compiled else train_step
        rng = np.random.default_rng(9)
        batches = [[mg.tensor(rng.standard_normal((8, 6)).astype(np.float32)) for _ in range(2)] for _ in range(STEPS)]
        results = [[t.array.copy() for t in step(*batch)] for batch in batches[:3]]
        replayed = len(made)
        results += [[t.array.copy() for t in step(*batch)] for batch in batches[3:]]
        return results, _state(shared, head), step, len(made) - replayed

    made = _counting_laters(monkeypatch)
    threads(1)
    eager_results, eager_state, _, _ = run(False)
    threads(2)
    results, state, step, laters = run(True)
    assert _replays(step) and laters >= 3 * 2  # each replay: the head's two uses (the first layer's dL/dW alone)
    for got, want in zip(results, eager_results):
        _assert_same(got, want)
    _assert_same(state, eager_state)


# --- a leaf's .grad read or changed in the step is that call's .grad -------------------------------

NETS = {  # a convolution's and BatchNorm's weight gradients arrive as views, copied into .grad; a Linear's
    # are the products' own arrays, which .grad adopts: both kinds of .grad
    "conv": lambda: nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(32, 1)),
    "linear": lambda: nn.Sequential(nn.Flatten(), nn.Linear(36, 8), nn.Tanh(), nn.Linear(8, 1)),
}


def _compare_steps(make_step, net="conv", calls=7, zeroed=lambda call: True):
    """Train `calls` calls eagerly and captured (fresh model from the same seed, the same batches),
    the caller setting every .grad to None before the calls `zeroed` names; assert the returned values,
    parameters and gradients equal after every call, and that the captured step replays a tape."""
    def run(compiled):
        mg.manual_seed(0)
        model = NETS[net]()
        step = make_step(model)
        step = mg.compile(step) if compiled else step
        rng = np.random.default_rng(0)
        history = []
        for call in range(1, calls + 1):
            if zeroed(call):
                for p in model.parameters():
                    p.grad = None
            returned = step(mg.tensor(rng.standard_normal((4, 1, 6, 6)).astype(np.float32)))
            grads = [np.array("no grad") if p.grad is None else p.grad.array.copy() for p in model.parameters()]
            history.append([t.array.copy() for t in returned] + _state(model) + grads)
        return history, step

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a refusal (running eagerly) fails the test too
        eager, _ = run(False)
        captured, step = run(True)
    assert _replays(step)
    for want, got in zip(eager, captured):
        _assert_same(want, got)


@pytest.mark.parametrize("net", sorted(NETS))
def test_gradients_changed_in_place_in_the_step_are_the_calls_own(net):
    # p.grad.mul_(0.5) after backward: each call's new .grad is halved (not the recorded call's tensor)
    def make_step(model):
        optimizer = mg.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            optimizer.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            for p in model.parameters():
                p.grad.mul_(0.5)
            optimizer.step()
            return (loss,)
        return step
    _compare_steps(make_step, net)


@pytest.mark.parametrize("net", sorted(NETS))
def test_gradients_read_in_the_step_are_the_calls_own_when_the_caller_lets_them_add_up(net):
    # The caller zeroes before most calls, not before calls 5 and 7: there the pass adds into the
    # .grad of the call before, and the step's reads (directly, and through reshaped views) see the sum
    def make_step(model):
        def step(x):
            loss = model(x).pow(2).mean()
            loss.backward()
            params = list(model.parameters())
            flat = mg.cat([p.grad.reshape(-1) for p in params])
            return loss, sum((p.grad * p.grad).sum() for p in params), flat.norm()
        return step
    _compare_steps(make_step, net, zeroed=lambda call: call not in (5, 7))


@pytest.mark.parametrize("clip", ["norm", "value"])
def test_gradient_clipping_is_replayed_on_each_calls_gradients(clip):
    # nn.utils.clip_grad_norm_ / clip_grad_value_ (their arithmetic on the host) replayed as calls, on
    # the .grad of each call, with model.parameters() (a generator) kept as a list
    def make_step(model):
        optimizer = mg.optim.Adam(model.parameters(), lr=0.01)

        def step(x):
            optimizer.zero_grad()
            loss = model(x).pow(2).mean()
            loss.backward()
            if clip == "norm":
                total = nn.utils.clip_grad_norm_(model.parameters(), 0.05)
            else:
                nn.utils.clip_grad_value_(model.parameters(), 0.01)
                total = loss
            optimizer.step()
            return loss, total
        return step
    _compare_steps(make_step)


@pytest.mark.parametrize("net", sorted(NETS))
def test_a_gradient_read_after_a_later_pass_adds_into_it_waits_for_that_pass(net):
    # The first pass's .grad survives an optimiser step; a second pass adds into it, then the step reads
    # it, then a third pass, then zero_grad(set_to_none=True): the second pass's additions are not moved
    # past the read (the read's .grad is gone by the end of the recorded step)
    def make_step(model):
        optimizer = mg.optim.SGD(model.parameters(), lr=0.01)

        def step(x):
            optimizer.zero_grad()
            model(x).pow(2).mean().backward()
            optimizer.step()
            model(x).pow(2).mean().backward()
            norm = sum((p.grad * p.grad).sum() for p in model.parameters())
            model(x).pow(2).mean().backward()
            optimizer.zero_grad(set_to_none=True)
            return (norm,)
        return step
    _compare_steps(make_step, net)


def test_a_grad_read_through_a_view_of_a_view_runs_eagerly_with_its_reason():
    mg.manual_seed(0)
    model = NETS["conv"]()

    def step(x):
        model.zero_grad()
        model(x).pow(2).mean().backward()
        return sum(p.grad.reshape(-1).reshape(1, -1).sum() for p in model.parameters())
    captured = mg.compile(step)
    with pytest.warns(RuntimeWarning, match="reads a .grad through a view"):
        for _ in range(4):
            captured(mg.randn(4, 1, 6, 6))
    assert captured.refused is not None


@pytest.mark.parametrize("net", sorted(NETS))
@pytest.mark.parametrize("clear", ["none", "data_zero"])
def test_gradients_cleared_by_hand_in_the_step_are_cleared_in_each_replay(net, clear):
    # `p.grad = None` (PyTorch's faster zero_grad by hand) and `p.grad.data.zero_()` inside the step: each
    # replay clears that call's .grad, so that backward starts from nothing
    def make_step(model):
        optimizer = mg.optim.SGD(model.parameters(), lr=0.1)

        def step(x):
            for p in model.parameters():
                if clear == "none":
                    p.grad = None
                elif p.grad is not None:
                    p.grad.data.zero_()
            loss = model(x).pow(2).mean()
            loss.backward()
            optimizer.step()
            return (loss,)
        return step
    _compare_steps(make_step, net, zeroed=lambda call: call == 1)


def test_a_grad_set_to_a_tensor_in_the_step_runs_eagerly_with_its_reason():
    mg.manual_seed(0)
    model = NETS["linear"]()

    def step(x):
        for p in model.parameters():
            p.grad = mg.zeros_like(p)
        model(x).pow(2).mean().backward()
        return model[1].weight.grad.sum()
    captured = mg.compile(step)
    with pytest.warns(RuntimeWarning, match=r"sets a \.grad to a tensor"):
        for _ in range(4):
            captured(mg.randn(4, 1, 6, 6))
    assert captured.refused is not None


def test_backward_into_a_leaf_made_in_the_step_runs_eagerly_saying_so():
    # WGAN-GP's points with a smooth critic: the slopes depend on the points, so backward adds into the
    # .grad of the points, a new leaf each call
    mg.manual_seed(0)
    critic = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 1))
    optimizer = mg.optim.Adam(critic.parameters(), lr=0.01)

    def step(x):
        optimizer.zero_grad()
        points = (x * 0.5).requires_grad_(True)
        slopes, = mg.autograd.grad(critic(points).sum(), points, create_graph=True)
        loss = critic(x).mean() + ((slopes.norm(2, dim=1) - 1) ** 2).mean()
        loss.backward()
        optimizer.step()
        return loss
    captured = mg.compile(step)
    with pytest.warns(RuntimeWarning, match=r"adds into the \.grad of a tensor of shape \(8, 6\) made in the step"):
        losses = [captured(mg.randn(8, 6)) for _ in range(4)]
    assert captured.refused is not None and all(np.isfinite(loss.item()) for loss in losses)


def _constant_step(variant):
    """A step whose target is made by mg.ones_like, mg.zeros_like, mg.zeros or mg.full, then used as
    `variant` says; "seed" also gives the bias's backward a gradient made by mg.full_like."""
    mg.manual_seed(5)
    net = nn.Linear(4, 3)
    opt = mg.optim.SGD(net.parameters(), lr=0.1)
    x = mg.randn(2, 4)

    def train_step():
        out = net(x)
        target = mg.ones_like(out) if variant == "plain" else mg.zeros_like(out)  # ("returned": the caller may change it)
        if variant == "written":  # made, then written in place: made again each call
            target = mg.zeros(2, 3)
            target[0, 1] = 2.0
            target.add_(out.detach())
        elif variant == "through_a_view":
            target = mg.full((2, 3), 0.5)
            target.view(6)[2:4].mul_(3)
        opt.zero_grad()
        if variant == "seed":  # kept as the bias's .grad, which the next backward adds into
            net.bias.backward(mg.full_like(net.bias, 0.5))
        loss = (out - target).square().mean()
        loss.backward()
        opt.step()
        return (loss, target) if variant == "returned" else loss
    return net, train_step


@pytest.mark.parametrize("variant", ["plain", "written", "through_a_view", "returned", "seed"])
def test_a_constant_made_in_the_step_is_made_once_unless_something_may_change_it(variant, monkeypatch):
    net_a, eager = _constant_step(variant)
    net_b, train_step = _constant_step(variant)
    step = mg.compile(train_step)
    made = []
    for call in range(STEPS):
        a = eager()
        with monkeypatch.context() as patches:
            if call >= 3:  # the tape is built: count the tensors the replays make
                patches.setattr(mg.creation, "_make", _counting(mg.creation._make, made))
            b = step()
        if variant == "returned":  # the caller writes into what the step returned: the next call is not fooled
            a[1].fill_(7.0), b[1].fill_(7.0)
            a, b = a[0], b[0]
        np.testing.assert_array_equal(a.array, b.array)
    assert _replays(step)
    _assert_same(_state(net_a), _state(net_b))
    assert len(made) == (0 if variant == "plain" else STEPS - 3)


def _counting(function, calls):
    def counted(*args, **kwargs):
        calls.append(function.__name__)
        return function(*args, **kwargs)
    return counted
