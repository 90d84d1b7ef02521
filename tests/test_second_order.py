"""Second-order autodiff: mg.autograd.grad, backward(create_graph=True), gradgradcheck, and the
gradient penalties (WGAN-GP, R1) that need them.

1. autograd.grad behaves as torch.autograd.grad (hand-computed values): .grad left alone,
   grad_outputs, non-leaf inputs, allow_unused, retain_graph, create_graph.
2. Third (and fourth) derivatives by repeated grad(..., create_graph=True), against closed forms.
3. The WGAN-GP penalty on an MLP critic and on a conv critic: its gradient with respect to the
   critic's weights (reached through the first backward) against central finite differences.
4. One full WGAN-GP training step (critic, then generator, both with Adam) against PyTorch in
   float64: losses, gradients and weights after the step.
5. gradgradcheck fails for an engine whose create_graph gradients are detached.
6. Double backward through the fused ops of GAN critics (BatchNorm, LayerNorm, BCE with logits,
   pooling, ConvTranspose2d, Dropout) with gradgradcheck.

Only the PyTorch comparisons need torch; they skip without it.
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F

nn = mg.nn


@pytest.fixture
def torch():
    """PyTorch on one thread (these tensors are tiny), or skip the test when it is not installed."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield torch
    torch.set_num_threads(threads)


def leaf(values, requires_grad=True):
    return mg.tensor(np.asarray(values, dtype=np.float64), requires_grad=requires_grad)


def close(tensor, expected, rtol=1e-12, atol=1e-12):
    np.testing.assert_allclose(tensor.numpy(), np.asarray(expected, dtype=np.float64), rtol=rtol, atol=atol)


# --- 1. the autograd.grad API ---------------------------------------------------------------------

def test_grad_returns_a_tuple_and_leaves_dot_grad_alone():
    x = leaf([1.0, -2.0, 3.0])
    w = leaf([0.5, 0.25, -1.0])
    loss = (x * x * w).sum()
    result = mg.autograd.grad(loss, [x, w])
    assert isinstance(result, tuple) and len(result) == 2
    close(result[0], 2 * np.array([1.0, -2.0, 3.0]) * np.array([0.5, 0.25, -1.0]))
    close(result[1], np.array([1.0, 4.0, 9.0]))
    assert x.grad is None and w.grad is None
    # a single tensor as `inputs` still gives a 1-tuple
    y = leaf([2.0])
    (g,) = mg.autograd.grad((y ** 3).sum(), y)
    close(g, [12.0])
    assert y.grad is None


def test_grad_does_not_disturb_an_existing_dot_grad():
    x = leaf([1.0, 2.0])
    (x * x).sum().backward()
    close(x.grad, [2.0, 4.0])
    (g,) = mg.autograd.grad((x ** 3).sum(), x)
    close(g, [3.0, 12.0])
    close(x.grad, [2.0, 4.0])  # neither replaced nor accumulated into


def test_grad_outputs_for_a_non_scalar_output():
    x = leaf([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    v = np.array([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]])
    y = x ** 2  # not a scalar: grad_outputs is the vector of the vector-Jacobian product
    (g,) = mg.autograd.grad(y, x, grad_outputs=mg.tensor(v))
    close(g, 2 * x.numpy() * v)
    with pytest.raises(RuntimeError, match="scalar"):
        mg.autograd.grad(x ** 2, x)
    with pytest.raises(RuntimeError, match="shape"):
        mg.autograd.grad(x ** 2, x, grad_outputs=mg.ones(3, dtype=mg.float64))


def test_grad_of_several_outputs_adds_their_vector_jacobian_products():
    x = leaf([1.0, 2.0])
    a, b = (x ** 2).sum(), (x ** 3).sum()
    (g,) = mg.autograd.grad([a, b], x, grad_outputs=[mg.tensor(2.0, dtype=mg.float64), None])
    close(g, 2 * 2 * x.numpy() + 3 * x.numpy() ** 2)


def test_grad_with_respect_to_a_non_leaf_intermediate():
    x = leaf([1.0, -2.0, 0.5])
    h = x * 2.0                      # a non-leaf
    y = (h ** 2).sum() + x.sum()     # dy/dh = 2h, dy/dx = 2h * 2 + 1 = 8x + 1
    gx, gh = mg.autograd.grad(y, [x, h])
    close(gh, 2 * 2 * x.numpy())
    close(gx, 8 * x.numpy() + 1)
    assert x.grad is None and h.grad is None
    # the intermediate alone, on a retained graph
    h = x.exp()
    z = (h * h * h).sum()
    (gh,) = mg.autograd.grad(z, h, retain_graph=True)
    close(gh, 3 * np.exp(x.numpy()) ** 2)
    (gx,) = mg.autograd.grad(z, x)
    close(gx, 3 * np.exp(3 * x.numpy()))


def test_grad_to_an_intermediate_does_not_need_the_freed_graph_below_it():
    x = leaf([1.0, 2.0])
    h = x.exp()
    mg.autograd.grad((h ** 2).sum(), x)  # frees h's grad_fn
    (gh,) = mg.autograd.grad((h * h * h).sum(), h)  # needs nothing below h
    close(gh, 3 * np.exp(2 * x.numpy()))


def test_allow_unused():
    x, unused = leaf([1.0, 2.0]), leaf([5.0])
    y = (x * x).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        mg.autograd.grad(y, [x, unused], retain_graph=True)
    gx, gu = mg.autograd.grad(y, [x, unused], allow_unused=True)
    close(gx, [2.0, 4.0])
    assert gu is None


def test_inputs_that_do_not_require_grad_are_refused():
    x, constant = leaf([1.0]), leaf([2.0], requires_grad=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.autograd.grad((x * constant).sum(), [x, constant])


def test_a_second_call_after_a_non_retained_one_raises():
    x = leaf([1.0, 2.0, 3.0])
    y = (x.exp() * x).sum()
    (g,) = mg.autograd.grad(y, x)
    close(g, (x.numpy() + 1) * np.exp(x.numpy()))
    with pytest.raises(RuntimeError, match="retain_graph"):
        mg.autograd.grad(y, x)
    with pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_retain_graph_allows_a_second_call_with_the_same_result():
    x = leaf([1.0, 2.0, 3.0])
    y = (x.exp() * x).sum()
    (first,) = mg.autograd.grad(y, x, retain_graph=True)
    (second,) = mg.autograd.grad(y, x, retain_graph=True)
    close(first, (x.numpy() + 1) * np.exp(x.numpy()))
    close(second, first.numpy())
    y.backward()  # and the graph is still there for backward
    close(x.grad, first.numpy())


def test_create_graph_results_are_graph_nodes_and_retain_the_graph():
    x = leaf([1.0, -2.0, 0.5])
    y = (x ** 3).sum()
    (g,) = mg.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    close(g, 3 * x.numpy() ** 2)
    (again,) = mg.autograd.grad(y, x)  # create_graph=True retained the graph by default
    close(again, g.numpy())
    (gg,) = mg.autograd.grad(g.sum(), x)
    close(gg, 6 * x.numpy())
    # without create_graph the result is a plain constant
    z = (x ** 3).sum()
    (plain,) = mg.autograd.grad(z, x)
    assert not plain.requires_grad and plain.grad_fn is None


def test_backward_with_create_graph_makes_dot_grad_differentiable():
    x = leaf([1.0, -2.0, 0.5])
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.requires_grad and x.grad.grad_fn is not None
    close(x.grad, 3 * x.numpy() ** 2)
    (gg,) = mg.autograd.grad(x.grad.sum(), x, retain_graph=True)
    close(gg, 6 * x.numpy())
    # backward through x.grad accumulates into x.grad, as PyTorch: 3x^2 + 6x
    x.grad.sum().backward()
    close(x.grad, 3 * x.numpy() ** 2 + 6 * x.numpy())


def test_backward_create_graph_with_a_gradient_argument():
    x = leaf([[1.0, 2.0], [3.0, -1.0]])
    v = mg.tensor([[1.0, 0.5], [-1.0, 2.0]], dtype=mg.float64)
    (x ** 3).backward(v, create_graph=True)
    close(x.grad, 3 * x.numpy() ** 2 * v.numpy())
    (gg,) = mg.autograd.grad((x.grad * x.grad).sum(), x)  # d/dx sum((3x^2 v)^2) = 36 x^3 v^2
    close(gg, 36 * x.numpy() ** 3 * v.numpy() ** 2)


def test_grad_outputs_that_require_grad_are_differentiated_through():
    """Double backward with respect to the cotangent: d/dv of (v . dy/dx) is dy/dx."""
    x = leaf([1.0, 2.0, -1.0])
    v = leaf([0.5, -1.0, 2.0])
    (g,) = mg.autograd.grad(x ** 3, x, grad_outputs=v, create_graph=True)  # 3 x^2 v
    close(g, 3 * x.numpy() ** 2 * v.numpy())
    gx, gv = mg.autograd.grad(g.sum(), [x, v])
    close(gx, 6 * x.numpy() * v.numpy())
    close(gv, 3 * x.numpy() ** 2)


def test_mixed_partial_derivatives():
    x, y = leaf([1.5]), leaf([-2.0])
    f = (x ** 2 * y ** 3).sum()  # d2f/dxdy = 6 x y^2
    (fx,) = mg.autograd.grad(f, x, create_graph=True)
    close(fx, 2 * 1.5 * (-2.0) ** 3)
    (fxy,) = mg.autograd.grad(fx.sum(), y)
    close(fxy, 6 * 1.5 * 4.0)


# --- 2. third and fourth derivatives -------------------------------------------------------------------

def derivatives(f, x, order):
    """[f', f'', ...] of an elementwise f by repeated grad(sum(.), create_graph=True)."""
    result, current = [], f(x).sum()
    for _ in range(order):
        (d,) = mg.autograd.grad(current, x, create_graph=True)
        result.append(d)
        current = d.sum()
    return result


def test_third_and_fourth_derivative_of_a_power():
    x = leaf([-1.5, 0.5, 2.0, 3.0])
    d1, d2, d3, d4 = derivatives(lambda t: t ** 4, x, 4)
    a = x.numpy()
    close(d1, 4 * a ** 3)
    close(d2, 12 * a ** 2)
    close(d3, 24 * a)
    close(d4, np.full(4, 24.0))


def test_third_derivative_of_x_exp_x():
    x = leaf([-2.0, -0.5, 0.0, 1.0, 1.5])
    a = x.numpy()
    d1, d2, d3 = derivatives(lambda t: t.exp() * t, x, 3)  # (x + k) e^x for k = 1, 2, 3
    close(d1, (a + 1) * np.exp(a))
    close(d2, (a + 2) * np.exp(a))
    close(d3, (a + 3) * np.exp(a))


def test_third_derivative_of_a_composite_through_several_ops():
    """f = x^2 e^-x / 2 + sqrt(x) (mul, neg, exp, div, sqrt), derivatives in closed form."""
    x = leaf([0.5, 1.0, 2.5])
    a = x.numpy()
    d1, d2, d3 = derivatives(lambda t: t * t * (-t).exp() / 2 + t.sqrt(), x, 3)
    e = np.exp(-a)
    close(d1, (2 * a - a ** 2) * e / 2 + 0.5 * a ** -0.5)
    close(d2, (2 - 4 * a + a ** 2) * e / 2 - 0.25 * a ** -1.5)
    close(d3, (-6 + 6 * a - a ** 2) * e / 2 + 0.375 * a ** -2.5)


def test_third_derivative_of_a_matrix_expression():
    """f(x) = sum((A x)^3) for a vector x: the third derivative contracted with ones twice,
    d/dx_k of sum_ij H_ij, is 6 sum_r A_rk (sum_i A_ri)^2."""
    rng = np.random.default_rng(1)
    A = mg.tensor(rng.standard_normal((3, 4)))
    x = leaf(rng.standard_normal(4))
    f = ((A @ x) ** 3).sum()
    (g,) = mg.autograd.grad(f, x, create_graph=True)
    (h,) = mg.autograd.grad(g.sum(), x, create_graph=True)
    (t,) = mg.autograd.grad(h.sum(), x)
    a = A.numpy()
    close(g, 3 * a.T @ (a @ x.numpy()) ** 2)
    close(h, 6 * a.T @ ((a @ x.numpy()) * a.sum(axis=1)))
    close(t, 6 * a.T @ (a.sum(axis=1) ** 2))


# --- 5. gradgradcheck catches a detached engine ---------------------------------------------------------

def _detaching_grad(original):
    def grad(*args, **kwargs):
        return tuple(None if g is None else g.detach() for g in original(*args, **kwargs))
    return grad


@pytest.mark.parametrize("func", [lambda a: a * 3.0, lambda a: a.sum(), lambda a: a.tanh()],
                         ids=["times-3", "sum", "tanh"])
def test_gradgradcheck_fails_when_create_graph_results_are_detached(monkeypatch, func):
    x = leaf(np.random.default_rng(2).standard_normal((2, 3)))
    assert mg.gradgradcheck(func, (x,))
    monkeypatch.setattr(mg.autograd, "grad", _detaching_grad(mg.autograd.grad))
    with pytest.raises(mg.GradcheckError):
        mg.gradgradcheck(func, (x,))
    assert mg.gradgradcheck(func, (x,), raise_exception=False) is False
    # first order is untouched by the patch
    assert mg.gradcheck(func, (x,))


# --- 6. double backward through the fused ops of GAN critics ---------------------------------------------

def _randn(*shape, seed=0, scale=1.0):
    return leaf(scale * np.random.default_rng(seed).standard_normal(shape))


def test_gradgradcheck_batch_norm_training_mode():
    x = _randn(4, 3, 2, 2, seed=10)
    w, b = _randn(3, seed=11), _randn(3, seed=12)
    assert mg.gradgradcheck(lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x, w, b))
    # the module, updating its running statistics on every call
    bn = nn.BatchNorm1d(3).double()
    assert bn.training
    assert mg.gradgradcheck(lambda x: bn(x).tanh(), (_randn(5, 3, seed=13),))


def test_gradgradcheck_batch_norm_eval_mode():
    x = _randn(4, 3, 2, 2, seed=14)
    mean, var = leaf([0.1, -0.2, 0.3], False), leaf([1.5, 0.7, 2.0], False)
    w, b = _randn(3, seed=15), _randn(3, seed=16)
    assert mg.gradgradcheck(lambda x, w, b: (F.batch_norm(x, mean, var, w, b, training=False) ** 2),
                            (x, w, b))


def test_gradgradcheck_layer_norm():
    x = _randn(3, 2, 4, seed=20)
    w, b = _randn(2, 4, seed=21), _randn(2, 4, seed=22)
    assert mg.gradgradcheck(lambda x, w, b: F.layer_norm(x, (2, 4), w, b), (x, w, b))
    assert mg.gradgradcheck(lambda x: F.layer_norm(x, 4), (x,))


def test_gradgradcheck_bce_with_logits():
    logits = _randn(6, seed=30, scale=2.0)
    target = leaf(np.random.default_rng(31).uniform(size=6), requires_grad=False)
    assert mg.gradgradcheck(lambda z: F.binary_cross_entropy_with_logits(z, target), (logits,))
    assert mg.gradgradcheck(lambda z: F.binary_cross_entropy_with_logits(z, target, reduction="none"), (logits,))
    pos_weight = leaf([2.0] * 6, False)
    assert mg.gradgradcheck(lambda z, y: F.binary_cross_entropy_with_logits(z, y, pos_weight=pos_weight),
                            (logits, leaf(target.numpy())))


def test_r1_penalty_through_bce_with_logits_matches_finite_differences():
    """R1: the squared norm of d(BCE(D(x), 1))/dx on real data, differentiated w.r.t. D's weights."""
    rng = np.random.default_rng(32)
    x = leaf(rng.standard_normal((5, 3)), requires_grad=False)
    W = leaf(rng.standard_normal((3, 4)) * 0.7)
    v = leaf(rng.standard_normal((4, 1)) * 0.7)
    ones = mg.ones(5, 1, dtype=mg.float64)

    def r1(W, v):
        with mg.enable_grad():  # gradcheck evaluates the function under no_grad for its differences
            real = x.detach().requires_grad_(True)
            loss = F.binary_cross_entropy_with_logits(F.leaky_relu(real @ W, 0.2) @ v, ones)
            (g,) = mg.autograd.grad(loss, real, create_graph=True)
            return (g ** 2).sum()

    assert mg.gradcheck(r1, (W, v))
    assert mg.gradgradcheck(lambda x, W, v: F.binary_cross_entropy_with_logits(x @ W, v),
                            (leaf(x.numpy()), W, leaf(rng.uniform(size=(5, 4)))))


def test_gradgradcheck_max_pool2d():
    x = _randn(2, 2, 5, 5, seed=40)
    assert mg.gradgradcheck(lambda a: F.max_pool2d(a, 2), (x,))
    assert mg.gradgradcheck(lambda a: F.max_pool2d(a, 3, stride=2, padding=1) ** 2, (x,))


def test_gradgradcheck_avg_pool2d():
    x = _randn(2, 2, 5, 5, seed=41)
    assert mg.gradgradcheck(lambda a: F.avg_pool2d(a, 2), (x,))
    assert mg.gradgradcheck(lambda a: F.avg_pool2d(a, 3, stride=2, padding=1).tanh(), (x,))


def test_gradgradcheck_conv2d_and_conv_transpose2d():
    x, w, b = _randn(2, 2, 4, 4, seed=50), _randn(2, 3, 3, 3, seed=51, scale=0.5), _randn(3, seed=52)
    assert mg.gradgradcheck(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
                            (x, w, b))
    assert mg.gradgradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=1).tanh(), (x, w))
    wc = _randn(3, 2, 3, 3, seed=53, scale=0.5)
    assert mg.gradgradcheck(lambda x, w: F.leaky_relu(F.conv2d(x, w, stride=2, padding=1), 0.2) ** 2, (x, wc))


def test_gradgradcheck_dropout_with_a_fixed_seed():
    x = _randn(4, 5, seed=60)

    def dropped(a):
        mg.manual_seed(123)  # the same mask on every call gradgradcheck makes
        return F.dropout(a, 0.5, training=True) * a

    out = dropped(x).numpy()
    kept = out != 0
    assert 0 < kept.sum() < kept.size  # the mask drops some elements and keeps others
    np.testing.assert_allclose(out[kept], 2 * x.numpy()[kept] ** 2, rtol=1e-12)
    assert mg.gradgradcheck(dropped, (x,))
    layer = nn.Dropout(0.3)

    def module(a):
        mg.manual_seed(7)
        return layer(a).tanh()
    assert mg.gradgradcheck(module, (x,))


# --- 3. the WGAN-GP gradient penalty, against finite differences ------------------------------------------

def mlp_critic(nn, features=6, hidden=8):
    return nn.Sequential(nn.Linear(features, hidden), nn.LeakyReLU(0.2),
                         nn.Linear(hidden, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1))


def conv_critic(nn, channels=1, size=8):
    return nn.Sequential(nn.Conv2d(channels, 3, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
                         nn.Flatten(), nn.Linear(3 * (size // 2) ** 2, 1))


def grads_of(module):
    """name -> a copy of each parameter's .grad (zeros for None: a parameter the loss does not use)."""
    return {name: np.zeros(p.shape) if p.grad is None else p.grad.numpy().copy()
            for name, p in module.named_parameters()}


def gradient_penalty(D, real, fake, eps):
    """The issue's snippet, verbatim."""
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    g, = mg.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
    return ((g.view(len(g), -1).norm(2, dim=1) - 1) ** 2).mean()


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_gradient_penalty_reaches_the_critic_weights(kind):
    mg.manual_seed(3)
    rng = np.random.default_rng(4)
    if kind == "mlp":
        D, shape, eps_shape = mlp_critic(nn).double(), (5, 6), (5, 1)
    else:
        D, shape, eps_shape = conv_critic(nn).double(), (3, 1, 8, 8), (3, 1, 1, 1)
    real, fake = mg.tensor(rng.standard_normal(shape)), mg.tensor(rng.standard_normal(shape))
    eps = mg.tensor(rng.uniform(size=eps_shape))

    penalty = gradient_penalty(D, real, fake, eps)
    d_loss = D(fake).mean() - D(real).mean()
    (d_loss + 10 * penalty).backward()
    total = grads_of(D)
    D.zero_grad()
    gradient_penalty(D, real, fake, eps).backward()  # the penalty alone
    analytic = grads_of(D)
    D.zero_grad()
    d_loss = D(fake).mean() - D(real).mean()
    d_loss.backward()
    for name, p in D.named_parameters():  # d(d_loss + 10 penalty) = d(d_loss) + 10 d(penalty)
        np.testing.assert_allclose(total[name], p.grad.numpy() + 10 * analytic[name], rtol=1e-10, atol=1e-12)

    # The penalty's own weight gradient against central differences of its value. A piecewise-
    # linear critic's input gradient is a product of weights and constant LeakyReLU slopes: it
    # does not depend on the biases, so their penalty gradient is 0, and the weights' is not.
    params = dict(D.named_parameters())
    h, checked = 1e-6, 0
    for name, p in params.items():
        flat = p.array.reshape(-1)
        for index in np.random.default_rng(5).choice(flat.size, size=min(3, flat.size), replace=False):
            original = flat[index]
            flat[index] = original + h
            plus = gradient_penalty(D, real, fake, eps).item()
            flat[index] = original - h
            minus = gradient_penalty(D, real, fake, eps).item()
            flat[index] = original
            numeric = (plus - minus) / (2 * h)
            a = analytic[name].reshape(-1)[index]
            assert abs(a - numeric) <= 1e-6 + 1e-5 * abs(numeric), (name, index, a, numeric)
            checked += 1
    assert checked >= 3 * len(params) - 2
    for name, g in analytic.items():
        if name.endswith("bias"):
            np.testing.assert_array_equal(g, 0.0, err_msg=name)
        else:
            assert np.abs(g).max() > 1e-3, name


# --- 4. a WGAN-GP training step against PyTorch ------------------------------------------------------------

def mlp_generator(nn, latent=4, features=6, hidden=8):
    return nn.Sequential(nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, features), nn.Tanh())


def conv_generator(nn, latent=4):
    return nn.Sequential(nn.Linear(latent, 2 * 4 * 4), nn.Unflatten(1, (2, 4, 4)), nn.ReLU(),
                         nn.ConvTranspose2d(2, 1, 4, stride=2, padding=1), nn.Tanh())


def _torch_twin(torch, ours, make_theirs):
    theirs = make_theirs().double()
    theirs.load_state_dict({name: torch.from_numpy(t.numpy().copy()) for name, t in ours.state_dict().items()})
    return theirs


def _wgan_gp_steps(framework, D, G, real, noise, eps, steps):
    """`steps` WGAN-GP iterations (critic step, then generator step) in minigrad or torch, with the
    same code: returns the losses and the gradients of each step."""
    if framework == "minigrad":
        lib, optim = mg, mg.optim
    else:
        import torch as lib
        optim = lib.optim
    opt_D = optim.Adam(D.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_G = optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
    record = []
    for step in range(steps):
        r, z, e = (lib.tensor(a[step]) for a in (real, noise, eps))
        opt_D.zero_grad()
        fake = G(z)
        x_hat = (e * r + (1 - e) * fake.detach()).requires_grad_(True)
        g, = lib.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
        penalty = ((g.view(len(g), -1).norm(2, dim=1) - 1) ** 2).mean()
        d_loss = D(fake.detach()).mean() - D(r).mean() + 10 * penalty
        d_loss.backward()
        d_grads = [p.grad.numpy().copy() for p in D.parameters()]
        opt_D.step()
        opt_G.zero_grad()
        g_loss = -D(G(z)).mean()
        g_loss.backward()
        g_grads = [p.grad.numpy().copy() for p in G.parameters()]
        opt_G.step()
        record.append({"penalty": penalty.item(), "d_loss": d_loss.item(), "g_loss": g_loss.item(),
                       "d_grads": d_grads, "g_grads": g_grads})
    return record


@pytest.mark.parametrize("kind", ["mlp", "conv"])
def test_wgan_gp_training_steps_match_pytorch(kind, torch):
    mg.manual_seed(8)
    if kind == "mlp":
        make_D, make_G, shape = mlp_critic, mlp_generator, (6, 6)
    else:
        make_D, make_G, shape = conv_critic, conv_generator, (4, 1, 8, 8)
    D, G = make_D(nn).double(), make_G(nn).double()
    D_t, G_t = _torch_twin(torch, D, lambda: make_D(torch.nn)), _torch_twin(torch, G, lambda: make_G(torch.nn))
    D_before = {name: p.numpy().copy() for name, p in D.named_parameters()}
    G_before = {name: p.numpy().copy() for name, p in G.named_parameters()}
    steps, n = 3, shape[0]
    rng = np.random.default_rng(9)
    real = rng.standard_normal((steps, *shape)).clip(-1, 1)
    noise = rng.standard_normal((steps, n, 4))
    eps = rng.uniform(size=(steps, n) + (1,) * (len(shape) - 1))

    ours = _wgan_gp_steps("minigrad", D, G, real, noise, eps, steps)
    theirs = _wgan_gp_steps("torch", D_t, G_t, real, noise, eps, steps)

    tolerance = {"rtol": 1e-6, "atol": 1e-9}
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for key in ("penalty", "d_loss", "g_loss"):
            np.testing.assert_allclose(a[key], b[key], err_msg=f"step {step}: {key}", **tolerance)
        for key in ("d_grads", "g_grads"):
            for i, (x, y) in enumerate(zip(a[key], b[key])):
                np.testing.assert_allclose(x, y, err_msg=f"step {step}: {key}[{i}]", **tolerance)
    assert ours[0]["penalty"] > 1e-3  # the penalty term is not negligible
    for ours_model, theirs_model, before in ((D, D_t, D_before), (G, G_t, G_before)):
        theirs_params = dict(theirs_model.named_parameters())
        for name, p in ours_model.named_parameters():
            np.testing.assert_allclose(p.numpy(), theirs_params[name].detach().numpy(), err_msg=name, **tolerance)
            if ours_model is D and name == list(before)[-1]:
                # the critic's last bias cancels out of D(fake).mean() - D(real).mean(): gradient 0
                np.testing.assert_array_equal(p.numpy(), before[name])
            else:
                assert np.abs(p.numpy() - before[name]).max() > 1e-5, f"{name} did not move"


# --- fused ops: create_graph gradients equal the first-order ones (closed_form) ---------------------------

def _fused_cases():
    rng = np.random.default_rng(70)
    x4, x2 = rng.standard_normal((3, 2, 3, 3)), rng.standard_normal((4, 5))
    w2, b2 = rng.standard_normal(2), rng.standard_normal(2)
    w5, b5 = rng.standard_normal(5), rng.standard_normal(5)
    target = rng.uniform(size=(4, 5))
    return {
        "batch_norm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True), (x4, w2, b2)),
        "layer_norm": (lambda x, w, b: F.layer_norm(x, (5,), w, b), (x2, w5, b5)),
        "bce_with_logits": (lambda x, y: F.binary_cross_entropy_with_logits(x, y), (x2, target)),
        "bce": (lambda p, y: F.binary_cross_entropy(p.sigmoid(), y), (x2, target)),
        "nll": (lambda x: F.cross_entropy(x, mg.tensor(np.array([0, 3, 1, 4]))), (x2,)),
        "max_pool2d": (lambda x: F.max_pool2d(x, 2, stride=1), (x4,)),
        "avg_pool2d": (lambda x: F.avg_pool2d(x, 2, stride=1, padding=1), (x4,)),
        "conv_transpose2d": (lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1),
                             (x4, rng.standard_normal((2, 3, 3, 3)))),
    }


@pytest.mark.parametrize("name", list(_fused_cases()))
def test_create_graph_first_derivatives_equal_the_plain_ones(name):
    """gradgradcheck differentiates the create_graph gradient numerically, but never compares it with
    the first-order (closed_form) gradient that gradcheck checked: this does."""
    func, arrays = _fused_cases()[name]
    inputs = [leaf(a) for a in arrays]
    out = func(*inputs)
    v = mg.tensor(np.random.default_rng(71).standard_normal(out.shape))
    plain = mg.autograd.grad(func(*inputs), inputs, grad_outputs=v)
    recorded = mg.autograd.grad(func(*inputs), inputs, grad_outputs=v, create_graph=True)
    for i, (a, b) in enumerate(zip(plain, recorded)):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-10, atol=1e-12, err_msg=f"input {i}")
        assert np.abs(a.numpy()).max() > 0


@pytest.mark.parametrize("case", ["bce(z, z)", "layer_norm(x, w, w)"])
def test_fused_op_with_the_same_tensor_in_two_slots(case):
    rng = np.random.default_rng(72)
    if case == "bce(z, z)":
        t = leaf(rng.uniform(0.1, 0.9, size=3))
        func = lambda z: F.binary_cross_entropy_with_logits(z, z)
    else:
        x = leaf(rng.standard_normal((2, 4)), requires_grad=False)
        t = leaf([0.5, 1.5, -1.0, 2.0])
        func = lambda w: (F.layer_norm(x, (4,), w, w) ** 2).sum()
    (plain,) = mg.autograd.grad(func(t), t)
    (recorded,) = mg.autograd.grad(func(t), t, create_graph=True)
    np.testing.assert_allclose(recorded.numpy(), plain.numpy(), rtol=1e-10)


# --- the gradient penalty through fused ops, against PyTorch --------------------------------------------

FUSED_CRITICS = {
    "layer_norm": (lambda nn: nn.Sequential(nn.Linear(6, 8), nn.LayerNorm(8), nn.LeakyReLU(0.2), nn.Linear(8, 1)),
                   (5, 6)),
    "batch_norm1d": (lambda nn: nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.LeakyReLU(0.2),
                                              nn.Linear(8, 1)), (5, 6)),
    "conv_batch_norm2d_max_pool": (lambda nn: nn.Sequential(
        nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.LeakyReLU(0.2), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3 * 3 * 3, 1)), (4, 1, 6, 6)),
    "conv_transpose_avg_pool": (lambda nn: nn.Sequential(
        nn.ConvTranspose2d(1, 2, 4, stride=2, padding=1), nn.Tanh(), nn.AvgPool2d(3, stride=2, padding=1),
        nn.Flatten(), nn.Linear(2 * 6 * 6, 1)), (3, 1, 6, 6)),
}


@pytest.mark.parametrize("name", list(FUSED_CRITICS))
def test_gradient_penalty_through_fused_ops_matches_pytorch(name, torch):
    make, shape = FUSED_CRITICS[name]
    mg.manual_seed(11)
    D = make(nn).double()
    D_t = _torch_twin(torch, D, lambda: make(torch.nn))
    rng = np.random.default_rng(12)
    x = rng.standard_normal(shape)

    def penalty_and_grads(lib, D):
        x_hat = lib.tensor(x).requires_grad_(True)
        g, = lib.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)
        penalty = ((g.view(len(g), -1).norm(2, dim=1) - 1) ** 2).mean()
        penalty.backward()
        grads = {n: np.zeros(tuple(p.shape)) if p.grad is None else p.grad.numpy().copy()
                 for n, p in D.named_parameters()}
        return g.detach().numpy(), penalty.item(), grads

    g, penalty, grads = penalty_and_grads(mg, D)
    g_t, penalty_t, grads_t = penalty_and_grads(torch, D_t)
    np.testing.assert_allclose(g, g_t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(penalty, penalty_t, rtol=1e-10)
    assert list(grads) == list(grads_t)
    reached = 0
    for n in grads:
        np.testing.assert_allclose(grads[n], grads_t[n], rtol=1e-9, atol=1e-12, err_msg=n)
        reached += np.abs(grads_t[n]).max() > 1e-6
    assert reached >= 3
