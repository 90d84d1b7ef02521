"""Gradient hooks: Tensor.register_hook, Tensor.register_post_accumulate_grad_hook and
autograd.queue_callback, against PyTorch's where it is installed."""

import copy
import pickle

import numpy as np
import pytest

import minigrad as mg


def chain(lib, hooks_log, x_values):
    """y = 3x with a hook on y (adds 1) and on the leaf x (doubles); loss = sum(y^2); the hooks log
    what they see, and a post-accumulate hook logs x.grad."""
    x = lib.tensor(x_values, requires_grad=True, dtype=lib.float64)
    x.register_hook(lambda g: hooks_log.append(("x", g.tolist())) or g * 2)
    y = x * 3
    y.register_hook(lambda g: hooks_log.append(("y", g.tolist())) or g + 1)
    x.register_post_accumulate_grad_hook(lambda t: hooks_log.append(("post", t.grad.tolist())))
    (y * y).sum().backward()
    return x


def test_hooks_see_and_replace_gradients_as_pytorch():
    torch = pytest.importorskip("torch")
    ours, theirs = [], []
    x = chain(mg, ours, [1.0, -2.0])
    t = chain(torch, theirs, [1.0, -2.0])
    assert ours == theirs
    # d/dy = 2y = 6x = [6, -12]; +1 -> [7, -11]; d/dx = 3 * that = [21, -33]; doubled -> [42, -66]
    assert ours == [("y", [6.0, -12.0]), ("x", [21.0, -33.0]), ("post", [42.0, -66.0])]
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_hook_on_a_non_leaf_changes_the_gradient_flowing_on():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.register_hook(lambda g: mg.zeros_like(g))
    (y.sum() + x.sum()).backward()
    assert x.grad.tolist() == [1.0, 1.0]  # only the direct path's gradient is left


def test_hooks_run_in_the_order_registered_and_a_none_keeps_the_gradient():
    x = mg.tensor([1.0], requires_grad=True)
    seen = []
    x.register_hook(lambda g: g + 1)
    x.register_hook(lambda g: seen.append(g.item()))  # returns None: the gradient goes on unchanged
    x.register_hook(lambda g: g * 10)
    (x * 5).sum().backward()
    assert seen == [6.0] and x.grad.item() == 60.0


def test_remove_takes_a_hook_away():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    handle = x.register_hook(lambda g: calls.append(1) or g * 2)
    post = x.register_post_accumulate_grad_hook(lambda t: calls.append(2))
    x.sum().backward()
    assert calls == [1, 2] and x.grad.tolist() == [2.0, 2.0]
    handle.remove()
    post.remove()
    x.grad = None
    x.sum().backward()
    assert calls == [1, 2] and x.grad.tolist() == [1.0, 1.0]
    with x.register_hook(lambda g: g * 3):  # a handle is also a with block
        x.grad = None
        x.sum().backward()
        assert x.grad.tolist() == [3.0, 3.0]
    x.grad = None
    x.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_post_accumulate_hooks_run_after_accumulation_in_backward_order():
    """Each leaf's post-accumulate hook runs once its .grad holds the sum of this pass's gradient
    and what it had; a leaf further from the loss comes later, as in PyTorch."""
    torch = pytest.importorskip("torch")
    logs = []
    for lib in (mg, torch):
        log = []
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        a.grad = lib.tensor([10.0, 10.0])
        for name, leaf in (("a", a), ("b", b)):
            leaf.register_post_accumulate_grad_hook(lambda t, name=name: log.append((name, t.grad.tolist())))
        ((a * b).exp().sum().log() + b.sum()).backward()
        logs.append(log)
    assert [name for name, _ in logs[0]] == [name for name, _ in logs[1]]
    np.testing.assert_allclose([g for _, g in logs[0]], [g for _, g in logs[1]], rtol=1e-6)
    assert logs[0][[name for name, _ in logs[0]].index("a")][1][0] > 10.0  # after adding into 10


def test_post_accumulate_hook_does_not_run_for_autograd_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    calls = []
    x.register_post_accumulate_grad_hook(lambda t: calls.append(t))
    x.register_hook(lambda g: g * 2)
    (g,) = mg.autograd.grad((x * 3).sum(), x)
    assert g.tolist() == [6.0, 6.0] and calls == [] and x.grad is None  # as torch.autograd.grad


def test_hooks_with_create_graph():
    """With create_graph=True a hook's result is recorded: the gradient it gives can be differentiated."""
    torch = pytest.importorskip("torch")
    results = []
    for lib in (mg, torch):
        x = lib.tensor([0.5, -1.5], requires_grad=True, dtype=lib.float64)
        x.register_hook(lambda g, x=x: g * x)  # d/dx sum(x^3) = 3x^2, times x: 3x^3
        y = x * x
        y.register_hook(lambda g: g + y)
        (y * x).sum().backward(create_graph=True)
        first = x.grad.detach().clone().tolist()
        (second,) = (lib.autograd.grad(x.grad.sum(), x))
        results.append((first, second.tolist()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-12)


def test_hook_errors_as_pytorch():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        mg.zeros(2).register_hook(lambda g: g)
    x = mg.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"):
        (x * 2).register_post_accumulate_grad_hook(lambda t: None)
    y = x * 1
    y.register_hook(lambda g: mg.ones(3))
    with pytest.raises(RuntimeError, match=r"has changed the size or type of value: \(2,\) float32 became \(3,\)"):
        y.sum().backward()
    with pytest.raises(RuntimeError, match="Final callbacks can only be installed during backward pass"):
        mg.autograd.queue_callback(lambda: None)


def test_queue_callback_runs_once_the_pass_has_ended_in_its_grad_mode():
    """A callback queued from a hook runs after every gradient of the pass has arrived, in the order
    queued, with grad mode as in the pass (on with create_graph), as PyTorch's queue_callback."""
    torch = pytest.importorskip("torch")
    from torch.autograd import Variable
    for create_graph in (False, True):
        logs = []
        for lib, queue in ((mg, mg.autograd.queue_callback), (torch, Variable._execution_engine.queue_callback)):
            log = []
            a = lib.tensor([1.0], requires_grad=True)
            b = lib.tensor([2.0], requires_grad=True)

            def post(t, name, a=a, b=b, lib=lib, queue=queue, log=log):
                log.append(name)
                queue(lambda: log.append(("end", name, a.grad.item(), b.grad.item(), lib.is_grad_enabled())))
            a.register_post_accumulate_grad_hook(lambda t: post(t, "a"))
            b.register_post_accumulate_grad_hook(lambda t: post(t, "b"))
            (a * b * 3).sum().backward(create_graph=create_graph)
            logs.append(log)
        assert logs[0] == logs[1]
        assert logs[0][-1] == ("end", logs[0][1], 6.0, 3.0, create_graph)


def test_hooks_of_a_fused_ops_input_run_once_with_the_whole_gradient():
    """LayerNorm is a FusedFunction: with create_graph its gradient comes from a pass of its own
    inside backward, which must not run its inputs' hooks with that part of the gradient alone."""
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(0).standard_normal((2, 4))
    seen = []
    for lib in (mg, torch):
        log = []
        x = lib.tensor(values, requires_grad=True)
        w = lib.tensor(np.linspace(0.5, 2.0, 4), requires_grad=True)
        w.register_hook(lambda g, log=log: log.append(g.detach().numpy().copy()))
        out = lib.nn.functional.layer_norm(x, (4,), weight=w) * w
        out.pow(2).sum().backward(create_graph=True)
        seen.append(log)
    assert len(seen[0]) == len(seen[1]) == 1
    np.testing.assert_allclose(seen[0][0], seen[1][0], rtol=1e-10)


def test_copies_have_no_hooks():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 100)
    for copied in (copy.deepcopy(x), pickle.loads(pickle.dumps(x))):  # a lambda hook would not pickle
        copied.sum().backward()
        assert copied.grad.tolist() == [1.0, 1.0]
    x.sum().backward()
    assert x.grad.tolist() == [100.0, 100.0]


def test_no_hooks_no_state():
    t = mg.tensor([1.0], requires_grad=True)
    assert t._hooks is None and (t * 2)._hooks is None


def test_a_copied_parameter_keeps_its_attributes_but_not_its_hooks():
    p = mg.nn.Parameter(mg.ones(2))
    p.note = "kept"
    p.register_post_accumulate_grad_hook(lambda t: t.grad.mul_(0))
    copied = copy.deepcopy(p)
    assert type(copied) is mg.nn.Parameter and copied.note == "kept" and copied._hooks is None
    (copied * 3).sum().backward()
    assert copied.grad.tolist() == [3.0, 3.0]
