"""The peer table: the same GAN step in other autodiff frameworks, each in its own efficient idiom.

    python -m benchmarks.run --peers             # the table, in the same run as the main benchmark

Two steps, both the ones of benchmarks/workloads.py, starting from the same initial weights
(taken from a minigrad model built with seed 0) on the same inputs:

    mlp_gan      the tutorial GAN, batch 60: D on real (target 1) and on the detached fake
                 (target 0), one D Adam step; then G through the new D (target 1), one G Adam step
    book_batch1  the book's GAN, one sample: three (forward, backward, Adam step) rounds

What each peer is given (it has no GAN layers or Adam of its own, except where said):
    PyTorch       the workload itself (torch.nn, torch.optim.Adam)
    minigrad      the workload itself
    minigrad (mg.compile)  the workload's step captured by mg.compile and replayed
    JAX (jit)     the whole step is one jitted function (params donated); layers, BCE and Adam
                  written here on jax.numpy; the fake batch's G forward is kept with jax.vjp
    JAX (no jit)  the same function, run op by op
    HIPS autograd layers, BCE on autograd.numpy; make_vjp for G as in JAX; Adam on NumPy in place
    MyGrad        layers, BCE on mygrad ops; one backward per optimiser step; Adam on NumPy in place
    tinygrad      tinygrad.nn.Linear, its Adam and BCE; the whole step under TinyJit
    Chainer       not written: chainer 7.8.1 does not import with NumPy 2 (np.sctypes is gone)

The functional peers (JAX, HIPS autograd) compute only the gradients the step uses: in the G
step, the gradient with respect to the fake batch, not D's weight gradients, which PyTorch,
minigrad, MyGrad and tinygrad compute there and throw away. A peer that is not installed, or
fails, is reported as missing with the reason; it never fails the benchmark.
"""

import importlib
import math
import time

import numpy as np

from gans import models

PEERS = ["PyTorch", "minigrad", "minigrad (mg.compile)", "JAX (jit)", "JAX (no jit)", "HIPS autograd", "MyGrad", "tinygrad", "Chainer"]
STEPS = ["mlp_gan", "book_batch1"]
MODULE_OF = {"PyTorch": "torch", "minigrad": "minigrad", "minigrad (mg.compile)": "minigrad", "JAX (jit)": "jax", "JAX (no jit)": "jax",
             "HIPS autograd": "autograd", "MyGrad": "mygrad", "tinygrad": "tinygrad", "Chainer": "chainer"}


# --- what every peer builds: the networks as data -----------------------------------------------

def network_spec(model):
    """A minigrad Sequential as a list of layers: ("linear", W (in, out), b), ("leaky_relu", slope),
    ("dropout", p), ("layer_norm", weight, bias), ("sigmoid",), ("tanh",); arrays are float32 NumPy."""
    spec = []
    for layer in model:
        name = type(layer).__name__
        if name == "Linear":
            spec.append(("linear", layer.weight.array.T.copy(), layer.bias.array.copy()))
        elif name == "LeakyReLU":
            spec.append(("leaky_relu", layer.negative_slope))
        elif name == "Dropout":
            spec.append(("dropout", layer.p))
        elif name == "LayerNorm":
            spec.append(("layer_norm", layer.weight.array.copy(), layer.bias.array.copy()))
        elif name in ("Sigmoid", "Tanh"):
            spec.append((name.lower(),))
        else:
            raise ValueError(f"peers: no layer {name}")
    return spec


def problem(step_name):
    """(G spec, D spec, real, noise, lr, betas) of a step, from the models of benchmarks/workloads.py."""
    import minigrad as mg
    mg.manual_seed(0)
    rng = np.random.default_rng(0)
    if step_name == "mlp_gan":
        G, D = models.tutorial_generator(mg.nn), models.tutorial_discriminator(mg.nn)
        real, noise = rng.uniform(-1, 1, (60, 784)), rng.standard_normal((60, 100))
        lr, betas = 2e-4, (0.5, 0.999)
    else:
        G, D = models.mnist_generator(mg.nn), models.mnist_discriminator(mg.nn)
        real, noise = rng.uniform(-1, 1, (1, 784)), rng.standard_normal((1, 100))
        lr, betas = 1e-4, (0.9, 0.999)
    return network_spec(G), network_spec(D), real.astype(np.float32), noise.astype(np.float32), lr, betas


def parameters(spec):
    return [array for layer in spec for array in layer[1:] if isinstance(array, np.ndarray)]


def numpy_adam(lr, betas, eps=1e-8):
    """Adam in place on NumPy arrays (PyTorch's formula), with one scratch array per parameter."""
    beta1, beta2 = betas
    state = {}

    def step(params, grads):
        for p, g in zip(params, grads):
            if id(p) not in state:
                state[id(p)] = [0, np.zeros_like(p), np.zeros_like(p), np.empty_like(p)]
            entry = state[id(p)]
            entry[0] += 1
            t, m, v, scratch = entry
            m *= beta1
            m += (1 - beta1) * g
            v *= beta2
            np.multiply(g, g, out=scratch)
            scratch *= 1 - beta2
            v += scratch
            np.sqrt(v, out=scratch)
            scratch /= math.sqrt(1 - beta2 ** t)
            scratch += eps
            np.divide(m, scratch, out=scratch)
            scratch *= lr / (1 - beta1 ** t)
            p -= scratch
    return step


# --- the peers ------------------------------------------------------------------------------------

def build(peer, step_name):
    """A function that runs one step of `step_name` in `peer` (and waits for it to finish).

    The peers written here also give `step.generator_weight()`: G's first weight, (in, out)."""
    module = MODULE_OF[peer]
    if peer == "Chainer":
        importlib.import_module(module)  # raises here: see the module docstring
        raise RuntimeError("no Chainer implementation")
    if peer in ("PyTorch", "minigrad", "minigrad (mg.compile)"):
        fw = importlib.import_module(module)
        from benchmarks.workloads import WORKLOADS
        fw.manual_seed(0)
        step = WORKLOADS[step_name](fw).step
        return fw.compile(step) if peer == "minigrad (mg.compile)" else step
    G, D, real, noise, lr, betas = problem(step_name)
    batch_one = step_name == "book_batch1"
    if peer.startswith("JAX"):
        return _jax_step(G, D, real, noise, lr, betas, batch_one, jit=peer == "JAX (jit)")
    if peer == "HIPS autograd":
        return _autograd_step(G, D, real, noise, lr, betas, batch_one)
    if peer == "MyGrad":
        return _mygrad_step(G, D, real, noise, lr, betas, batch_one)
    if peer == "tinygrad":
        return _tinygrad_step(G, D, real, noise, lr, betas, batch_one)
    raise ValueError(f"unknown peer {peer!r}")


def _forward_numpy_like(xnp, spec, params, x, dropout_masks):
    """The network on a NumPy-like module (jax.numpy, autograd.numpy); params in spec order."""
    arrays = iter(params)
    masks = iter(dropout_masks)
    for layer in spec:
        kind = layer[0]
        if kind == "linear":
            weight, bias = next(arrays), next(arrays)
            x = x @ weight + bias
        elif kind == "leaky_relu":
            x = xnp.maximum(x, layer[1] * x)
        elif kind == "dropout":
            x = x * next(masks)
        elif kind == "layer_norm":
            weight, bias = next(arrays), next(arrays)
            mean = xnp.mean(x, axis=-1, keepdims=True)
            centered = x - mean
            var = xnp.mean(centered * centered, axis=-1, keepdims=True)
            x = centered / xnp.sqrt(var + 1e-5) * weight + bias
        elif kind == "sigmoid":
            x = 1 / (1 + xnp.exp(-x))
        elif kind == "tanh":
            x = xnp.tanh(x)
    return x


def _bce(xnp, p, target):
    """PyTorch's BCELoss: the logs clamped at -100."""
    return -xnp.mean(target * xnp.maximum(xnp.log(p), -100) + (1 - target) * xnp.maximum(xnp.log(1 - p), -100))


def _dropout_shapes(spec, batch):
    shapes, width = [], None
    for layer in spec:
        if layer[0] == "linear":
            width = layer[1].shape[1]
        if layer[0] == "dropout":
            shapes.append(((batch, width), layer[1]))
    return shapes


def _jax_step(G, D, real, noise, lr, betas, batch_one, jit):
    import jax
    import jax.numpy as jnp
    beta1, beta2 = betas
    drop = _dropout_shapes(D, real.shape[0])

    def masks(key):
        keys = jax.random.split(key, len(drop) + 1)
        return keys[0], [jax.random.bernoulli(k, 1 - p, shape) / (1 - p) for k, (shape, p) in zip(keys[1:], drop)]

    def adam(params, grads, moments, t):
        m = [beta1 * mi + (1 - beta1) * g for mi, g in zip(moments[0], grads)]
        v = [beta2 * vi + (1 - beta2) * g * g for vi, g in zip(moments[1], grads)]
        step_size, root = lr / (1 - beta1 ** t), jnp.sqrt(1 - beta2 ** t)
        return [p - step_size * mi / (jnp.sqrt(vi) / root + 1e-8) for p, mi, vi in zip(params, m, v)], (m, v)

    def generator(g):
        return _forward_numpy_like(jnp, G, g, noise, [])

    def d_loss(d, inputs, d_masks, target):
        return _bce(jnp, _forward_numpy_like(jnp, D, d, inputs, d_masks), target)

    def step(state):
        g, d, g_moments, d_moments, g_t, d_t, key = state
        if batch_one:  # three rounds: D on real, D on a fresh (detached) fake, then G through D
            for inputs in (real, None):
                inputs = generator(g) if inputs is None else inputs
                key, d_masks = masks(key)
                d_t = d_t + 1
                d, d_moments = adam(d, jax.grad(d_loss)(d, inputs, d_masks, 1.0 if inputs is real else 0.0),
                                    d_moments, d_t)
            fake, g_vjp = jax.vjp(generator, g)
        else:
            fake, g_vjp = jax.vjp(generator, g)
            key, real_masks = masks(key)
            key, fake_masks = masks(key)
            d_t = d_t + 1
            d_grads = jax.grad(lambda d: d_loss(d, real, real_masks, 1.0) + d_loss(d, fake, fake_masks, 0.0))(d)
            d, d_moments = adam(d, d_grads, d_moments, d_t)
        key, g_masks = masks(key)
        (g_grads,) = g_vjp(jax.grad(lambda f: d_loss(d, f, g_masks, 1.0))(fake))
        g_t = g_t + 1
        g, g_moments = adam(g, g_grads, g_moments, g_t)
        return g, d, g_moments, d_moments, g_t, d_t, key

    if jit:
        step = jax.jit(step, donate_argnums=0)
    real, noise = jnp.asarray(real), jnp.asarray(noise)
    g, d = [jnp.asarray(a) for a in parameters(G)], [jnp.asarray(a) for a in parameters(D)]
    zeros = lambda ps: ([jnp.zeros_like(p) for p in ps], [jnp.zeros_like(p) for p in ps])  # noqa: E731
    state = [(g, d, zeros(g), zeros(d), jnp.float32(0), jnp.float32(0), jax.random.PRNGKey(0))]

    def run():
        state[0] = step(state[0])
        jax.block_until_ready(state[0])
    run.generator_weight = lambda: np.asarray(state[0][0][0])
    return run


def _autograd_step(G, D, real, noise, lr, betas, batch_one):
    from autograd import grad, make_vjp
    from autograd import numpy as anp
    rng = np.random.default_rng(0)
    drop = _dropout_shapes(D, real.shape[0])
    g, d = parameters(G), parameters(D)
    g_adam, d_adam = numpy_adam(lr, betas), numpy_adam(lr, betas)

    def masks():
        return [(rng.random(shape, dtype=np.float32) >= p) * np.float32(1 / (1 - p)) for shape, p in drop]

    def generator(g):
        return _forward_numpy_like(anp, G, g, noise, [])

    def d_loss(d, inputs, d_masks, target):
        return _bce(anp, _forward_numpy_like(anp, D, d, inputs, d_masks), target)

    def run():
        if batch_one:
            d_adam(d, grad(d_loss)(d, real, masks(), 1.0))
            d_adam(d, grad(d_loss)(d, generator(g), masks(), 0.0))
            g_vjp, fake = make_vjp(generator)(g)
        else:
            g_vjp, fake = make_vjp(generator)(g)
            real_masks, fake_masks = masks(), masks()
            d_adam(d, grad(lambda d: d_loss(d, real, real_masks, 1.0) + d_loss(d, fake, fake_masks, 0.0))(d))
        g_masks = masks()
        g_adam(g, g_vjp(grad(lambda f: d_loss(d, f, g_masks, 1.0))(fake)))
    run.generator_weight = lambda: g[0]
    return run


def _mygrad_step(G, D, real, noise, lr, betas, batch_one):
    import mygrad
    from mygrad.nnet.activations import leaky_relu, sigmoid, tanh
    rng = np.random.default_rng(0)
    g = [mygrad.Tensor(a) for a in parameters(G)]
    d = [mygrad.Tensor(a) for a in parameters(D)]
    g_adam, d_adam = numpy_adam(lr, betas), numpy_adam(lr, betas)

    def forward(spec, params, x):
        params = iter(params)
        for layer in spec:
            kind = layer[0]
            if kind == "linear":
                x = mygrad.matmul(x, next(params)) + next(params)
            elif kind == "leaky_relu":
                x = leaky_relu(x, layer[1])
            elif kind == "dropout":
                x = x * ((rng.random(x.shape, dtype=np.float32) >= layer[1]) * np.float32(1 / (1 - layer[1])))
            elif kind == "layer_norm":
                weight, bias = next(params), next(params)
                centered = x - mygrad.mean(x, axis=-1, keepdims=True)
                variance = mygrad.mean(centered * centered, axis=-1, keepdims=True)
                x = centered / mygrad.sqrt(variance + 1e-5) * weight + bias
            elif kind == "sigmoid":
                x = sigmoid(x)
            elif kind == "tanh":
                x = tanh(x)
        return x

    def bce(p, target):
        return -mygrad.mean(target * mygrad.maximum(mygrad.log(p), -100)
                            + (1 - target) * mygrad.maximum(mygrad.log(1 - p), -100))

    def update(adam, params):
        adam([p.data for p in params], [p.grad for p in params])

    def run():
        if batch_one:
            bce(forward(D, d, real), 1.0).backward()
            update(d_adam, d)
            fake = forward(G, g, noise).data  # detached
            bce(forward(D, d, fake), 0.0).backward()
            update(d_adam, d)
            bce(forward(D, d, forward(G, g, noise)), 1.0).backward()
            update(g_adam, g)
            return
        fake = forward(G, g, noise)
        (bce(forward(D, d, real), 1.0) + bce(forward(D, d, fake.data), 0.0)).backward()
        update(d_adam, d)
        bce(forward(D, d, fake), 1.0).backward()
        update(g_adam, g)
    run.generator_weight = lambda: g[0].data
    return run


def _tinygrad_step(G, D, real, noise, lr, betas, batch_one):
    from tinygrad import Tensor, TinyJit, nn
    from tinygrad.helpers import Context
    from tinygrad.nn.optim import Adam

    def network(spec):
        layers, params = [], []
        for layer in spec:
            kind = layer[0]
            if kind == "linear":
                linear = nn.Linear(*layer[1].shape)
                linear.weight = Tensor(layer[1].T.copy())
                linear.bias = Tensor(layer[2])
                layers.append(linear)
                params += [linear.weight, linear.bias]
            elif kind == "leaky_relu":
                layers.append(lambda x, slope=layer[1]: x.leaky_relu(slope))
            elif kind == "dropout":
                layers.append(lambda x, p=layer[1]: x.dropout(p))
            elif kind == "layer_norm":
                norm = nn.LayerNorm(layer[1].shape[0])
                norm.weight, norm.bias = Tensor(layer[1]), Tensor(layer[2])
                layers.append(norm)
                params += [norm.weight, norm.bias]
            elif kind == "sigmoid":
                layers.append(Tensor.sigmoid)
            elif kind == "tanh":
                layers.append(Tensor.tanh)
        return (lambda x: x.sequential(layers)), params

    generator, g_params = network(G)
    discriminator, d_params = network(D)
    opt_g = Adam(g_params, lr=lr, b1=betas[0], b2=betas[1], eps=1e-8)
    opt_d = Adam(d_params, lr=lr, b1=betas[0], b2=betas[1], eps=1e-8)
    real, noise = Tensor(real).realize(), Tensor(noise).realize()
    ones, zeros = Tensor.ones(real.shape[0], 1).contiguous().realize(), Tensor.zeros(real.shape[0], 1).contiguous().realize()

    def train(optimizer, loss):
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    @TinyJit
    def jitted_step():
        if batch_one:
            train(opt_d, discriminator(real).binary_crossentropy(ones))
            train(opt_d, discriminator(generator(noise).detach()).binary_crossentropy(zeros))
            train(opt_g, discriminator(generator(noise)).binary_crossentropy(ones))
        else:
            fake = generator(noise)
            train(opt_d, discriminator(real).binary_crossentropy(ones)
                  + discriminator(fake.detach()).binary_crossentropy(zeros))
            train(opt_g, discriminator(fake).binary_crossentropy(ones))
        return Tensor.realize(*g_params, *d_params)

    def step():
        with Context(TRAINING=1):  # dropout on
            jitted_step()
    step.generator_weight = lambda: g_params[0].numpy().T
    return step


def run_steps(step, iterations):
    for _ in range(iterations):
        step()


def time_peer(peer, step_name, seconds=0.3, passes=3):
    """ms per step (median of `passes`), after warm-up (which includes any compilation)."""
    step = build(peer, step_name)
    for _ in range(3):
        step()
    start = time.perf_counter()
    step()
    once = time.perf_counter() - start
    iterations = max(2, min(1000, int(seconds / max(once, 1e-6))))
    times = []
    for _ in range(passes):
        start = time.perf_counter()
        run_steps(step, iterations)
        times.append((time.perf_counter() - start) / iterations)
    return sorted(times)[len(times) // 2] * 1e3
