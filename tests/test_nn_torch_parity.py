"""minigrad.nn and minigrad.optim against PyTorch, in float64, with identical weights.

Each layer runs forward and backward in both frameworks (weights copied over through
state_dict), from the same input and the same output cotangent: outputs, input gradients and
parameter gradients must agree to ~1e-12, and so must BatchNorm's running statistics after
several training steps. Adam and SGD take many steps on a small MLP in both frameworks. Last,
the book's MNIST Discriminator and Generator - with the book's own train() methods - run under
both frameworks with only the import lines changed, and give the same losses.
"""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

TOLERANCE = dict(rtol=1e-12, atol=1e-12)


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """These tensors are small: torch's thread pool costs far more than it saves (on 2 busy cores,
    ~15 ms per in-place op of 150,000 elements instead of ~0.05 ms)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def to_torch(array, requires_grad=False):
    return torch.tensor(np.array(array), requires_grad=requires_grad)


def twins(make_mg, make_torch):
    """The same layer in both frameworks, float64, the torch one holding minigrad's initial weights."""
    ours = make_mg().double()
    theirs = make_torch().double()
    state = {name: torch.from_numpy(t.numpy().copy()) for name, t in ours.state_dict().items()}
    theirs.load_state_dict(state)  # strict: the two state dicts have the same keys and shapes
    return ours, theirs


def compare_forward_backward(ours, theirs, *inputs, differentiable=(0,), seed=0):
    """Run both on the same inputs, backward from the same cotangent; compare outputs and gradients."""
    mg_inputs = [mg.tensor(a, requires_grad=i in differentiable) for i, a in enumerate(inputs)]
    torch_inputs = [to_torch(a, requires_grad=i in differentiable) for i, a in enumerate(inputs)]
    out, expected = ours(*mg_inputs), theirs(*torch_inputs)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **TOLERANCE)
    cotangent = np.random.default_rng(seed).normal(size=tuple(expected.shape))
    out.backward(mg.tensor(cotangent))
    expected.backward(to_torch(cotangent))
    for i in differentiable:
        np.testing.assert_allclose(mg_inputs[i].grad.numpy(), torch_inputs[i].grad.numpy(), **TOLERANCE)
    ours_params, theirs_params = dict(ours.named_parameters()), dict(theirs.named_parameters())
    assert list(ours_params) == list(theirs_params)
    for name, p in ours_params.items():
        np.testing.assert_allclose(p.grad.numpy(), theirs_params[name].grad.numpy(), err_msg=name, **TOLERANCE)
    ours.zero_grad(), theirs.zero_grad()
    return out.numpy()


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


# --- layers ---------------------------------------------------------------------------------------

LAYERS = {
    "linear": (lambda nn: nn.Linear(5, 3), (4, 5)),
    "linear 3-d input": (lambda nn: nn.Linear(5, 3), (2, 4, 5)),
    "linear no bias": (lambda nn: nn.Linear(5, 3, bias=False), (4, 5)),
    "conv2d": (lambda nn: nn.Conv2d(3, 4, 3), (2, 3, 6, 6)),
    "conv2d stride padding dilation": (
        lambda nn: nn.Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 2)), (2, 3, 7, 6)),
    "conv2d dcgan": (lambda nn: nn.Conv2d(3, 4, 4, 2, 1, bias=False), (2, 3, 8, 8)),
    "conv transpose2d dcgan": (lambda nn: nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1), (2, 3, 4, 4)),
    "conv transpose2d output padding": (
        lambda nn: nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1), (2, 3, 4, 5)),
    "conv transpose2d everything": (
        lambda nn: nn.ConvTranspose2d(2, 3, (3, 2), stride=(3, 2), padding=(1, 0), output_padding=(2, 1),
                                      dilation=(1, 2)), (1, 2, 3, 4)),
    "layer norm": (lambda nn: nn.LayerNorm(6), (4, 6)),
    "layer norm 2 dims": (lambda nn: nn.LayerNorm((3, 4), eps=1e-3), (2, 5, 3, 4)),
    "layer norm no affine": (lambda nn: nn.LayerNorm(6, elementwise_affine=False), (4, 6)),
    "gelu": (lambda nn: nn.GELU(), (4, 7)),
    "gelu tanh": (lambda nn: nn.GELU(approximate="tanh"), (4, 7)),
    "leaky relu": (lambda nn: nn.LeakyReLU(0.2), (4, 7)),
    "elu": (lambda nn: nn.ELU(), (4, 7)),
    "elu alpha": (lambda nn: nn.ELU(alpha=0.3), (4, 7)),
    "sigmoid": (lambda nn: nn.Sigmoid(), (4, 7)),
    "tanh": (lambda nn: nn.Tanh(), (4, 7)),
    "softplus": (lambda nn: nn.Softplus(beta=2.0, threshold=3.0), (4, 7)),
    "flatten": (lambda nn: nn.Flatten(), (2, 3, 4)),
    "unflatten": (lambda nn: nn.Unflatten(1, (3, 4)), (2, 12)),
    "mlp": (lambda nn: nn.Sequential(nn.Linear(6, 5), nn.LeakyReLU(0.02), nn.LayerNorm(5), nn.Linear(5, 1),
                                     nn.Sigmoid()), (3, 6)),
    # PyTorch GAN code's vocabulary
    "identity": (lambda nn: nn.Identity(54, unused="ignored"), (2, 3)),
    # torch refuses an in-place op on a leaf that requires grad, so each follows a Linear
    "relu inplace": (lambda nn: nn.Sequential(nn.Linear(7, 5), nn.ReLU(inplace=True)), (4, 7)),
    "leaky relu inplace": (lambda nn: nn.Sequential(nn.Linear(7, 5), nn.LeakyReLU(0.2, inplace=True)), (4, 7)),
    "elu inplace": (lambda nn: nn.Sequential(nn.Linear(7, 5), nn.ELU(0.5, inplace=True)), (4, 7)),
    "dropout inplace eval": (lambda nn: nn.Sequential(nn.Linear(7, 5), nn.Dropout(0.5, inplace=True)).eval(), (4, 7)),
    "upsample nearest": (lambda nn: nn.Upsample(scale_factor=2), (2, 3, 3, 4)),
    "upsample nearest size": (lambda nn: nn.Upsample(size=(5, 7), mode="nearest"), (2, 3, 3, 4)),
    "upsample bilinear": (lambda nn: nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), (2, 3, 3, 4)),
    "upsample bilinear corners": (lambda nn: nn.Upsample(size=6, mode="bilinear", align_corners=True), (1, 2, 3, 4)),
    "instance norm": (lambda nn: nn.InstanceNorm2d(3), (2, 3, 4, 5)),
    "instance norm affine": (lambda nn: nn.InstanceNorm2d(3, affine=True, eps=1e-3), (2, 3, 4, 5)),
    "instance norm unbatched": (lambda nn: nn.InstanceNorm2d(3), (3, 4, 5)),
    "reflection pad": (lambda nn: nn.ReflectionPad2d(2), (2, 3, 4, 5)),
    "reflection pad sides": (lambda nn: nn.ReflectionPad2d((1, 0, 2, 3)), (2, 3, 4, 5)),
    "replication pad": (lambda nn: nn.ReplicationPad2d((3, 1, 0, 2)), (2, 3, 4, 5)),
    "zero pad": (lambda nn: nn.ZeroPad2d((1, 2, 0, 3)), (2, 3, 4, 5)),
    "constant pad": (lambda nn: nn.ConstantPad2d(1, 0.5), (2, 3, 4, 5)),
    "pixel shuffle": (lambda nn: nn.PixelShuffle(2), (2, 8, 3, 3)),
    "adaptive avg pool": (lambda nn: nn.AdaptiveAvgPool2d((3, 2)), (2, 3, 7, 5)),
    "adaptive avg pool 1": (lambda nn: nn.AdaptiveAvgPool2d(1), (2, 3, 7, 5)),
    "prelu": (lambda nn: nn.PReLU(), (4, 7)),
    "prelu per channel": (lambda nn: nn.PReLU(3, init=0.1), (2, 3, 4, 4)),
    "cyclegan residual block": (lambda nn: nn.Sequential(
        nn.ReflectionPad2d(1), nn.Conv2d(3, 3, 3), nn.InstanceNorm2d(3), nn.ReLU(True),
        nn.ReflectionPad2d(1), nn.Conv2d(3, 3, 3), nn.InstanceNorm2d(3)), (2, 3, 6, 6)),
    "srgan upsampling": (lambda nn: nn.Sequential(nn.Conv2d(2, 8, 3, 1, 1), nn.PixelShuffle(2), nn.PReLU()),
                         (2, 2, 4, 4)),
    "dropout2d eval": (lambda nn: nn.Dropout2d(0.3).eval(), (2, 3, 4, 4)),
    "softmax dim": (lambda nn: nn.Softmax(dim=1), (4, 7)),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_torch(name):
    make, shape = LAYERS[name]
    ours, theirs = twins(lambda: make(mg.nn), lambda: make(torch.nn))
    x = normal(*shape) * 2
    compare_forward_backward(ours, theirs, x)


@pytest.mark.parametrize("make, shape", [
    (lambda nn, **kw: nn.BatchNorm1d(4, **kw), (8, 4)),
    (lambda nn, **kw: nn.BatchNorm1d(4, **kw), (6, 4, 3)),
    (lambda nn, **kw: nn.BatchNorm2d(3, **kw), (4, 3, 5, 5)),
], ids=["1d", "1d with length", "2d"])
@pytest.mark.parametrize("options", [{}, {"momentum": None}, {"momentum": 0.3, "eps": 1e-3}, {"affine": False}],
                         ids=["default", "cumulative", "momentum eps", "no affine"])
def test_batch_norm_matches_torch_in_training_and_eval(make, shape, options):
    ours, theirs = twins(lambda: make(mg.nn, **options), lambda: make(torch.nn, **options))
    if ours.affine:  # not the initial ones and zeros
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5), theirs.bias.uniform_(-1, 1)
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for step in range(4):  # training: batch statistics, running statistics move
        x = normal(*shape, seed=step) * (step + 1) + step
        compare_forward_backward(ours, theirs, x, seed=step)
        for name, value in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[name].numpy(), value.numpy(), err_msg=name, **TOLERANCE)
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 4
    ours.eval(), theirs.eval()
    compare_forward_backward(ours, theirs, normal(*shape, seed=9) + 2)  # the running statistics are used
    assert ours.num_batches_tracked.item() == 4


LOSSES = {
    "mse": (lambda nn, r: nn.MSELoss(reduction=r), "normal"),
    "bce": (lambda nn, r: nn.BCELoss(reduction=r), "probability"),
    "bce weight": (lambda nn, r: nn.BCELoss(weight=WEIGHT(nn), reduction=r), "probability"),
    "bce with logits": (lambda nn, r: nn.BCEWithLogitsLoss(reduction=r), "normal"),
    "bce with logits weights": (
        lambda nn, r: nn.BCEWithLogitsLoss(weight=WEIGHT(nn), pos_weight=POS_WEIGHT(nn), reduction=r), "normal"),
    "cross entropy": (lambda nn, r: nn.CrossEntropyLoss(reduction=r), "classes"),
    "cross entropy weight ignore": (
        lambda nn, r: nn.CrossEntropyLoss(weight=CLASS_WEIGHT(nn), ignore_index=1, reduction=r), "classes"),
    "cross entropy spatial": (lambda nn, r: nn.CrossEntropyLoss(reduction=r), "spatial classes"),
    "nll": (lambda nn, r: nn.NLLLoss(weight=CLASS_WEIGHT(nn), reduction=r), "log probabilities"),
    "l1": (lambda nn, r: nn.L1Loss(reduction=r), "normal"),
}


def constant(values):
    """A constant tensor of the framework whose nn module is given."""
    return lambda nn: (mg.tensor(values, dtype=mg.float64) if nn is mg.nn else torch.tensor(values, dtype=torch.float64))


WEIGHT = constant([0.5, 1.0, 2.0])
POS_WEIGHT = constant([3.0, 0.5, 1.0])
CLASS_WEIGHT = constant([1.0, 0.2, 2.0, 0.7])


def loss_inputs(kind):
    rng = np.random.default_rng(7)
    if kind == "normal":
        return rng.normal(size=(5, 3)), rng.uniform(0, 1, (5, 3))
    if kind == "probability":
        return rng.uniform(0.05, 0.95, (5, 3)), rng.uniform(0, 1, (5, 3))
    if kind == "classes":
        return rng.normal(size=(6, 4)), rng.integers(0, 4, 6)
    if kind == "spatial classes":
        return rng.normal(size=(3, 4, 2, 2)), rng.integers(0, 4, (3, 2, 2))
    logits = rng.normal(size=(6, 4))
    return logits - np.log(np.exp(logits).sum(axis=1, keepdims=True)), rng.integers(0, 4, 6)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", LOSSES)
def test_loss_matches_torch(name, reduction):
    make, kind = LOSSES[name]
    ours, theirs = make(mg.nn, reduction), make(torch.nn, reduction)
    x, target = loss_inputs(kind)
    compare_forward_backward(ours, theirs, x, target)


# --- optimisers ---------------------------------------------------------------------------------------

def mlp(nn):
    return nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 8), nn.LeakyReLU(0.1), nn.Linear(8, 1))


OPTIMIZERS = {
    "adam": lambda optim, params: optim.Adam(params, lr=0.01),
    "adam weight decay": lambda optim, params: optim.Adam(params, lr=0.02, betas=(0.8, 0.99), eps=1e-6,
                                                          weight_decay=0.05),
    "sgd": lambda optim, params: optim.SGD(params, lr=0.05),
    "sgd momentum": lambda optim, params: optim.SGD(params, lr=0.05, momentum=0.9),
    "sgd nesterov decay": lambda optim, params: optim.SGD(params, lr=0.05, momentum=0.9, nesterov=True,
                                                          weight_decay=0.01),
    "sgd dampening": lambda optim, params: optim.SGD(params, lr=0.05, momentum=0.5, dampening=0.5),
    "adam groups": lambda optim, params: optim.Adam(
        [{"params": params[:2], "lr": 0.05}, {"params": params[2:]}], lr=0.005),
    "rmsprop": lambda optim, params: optim.RMSprop(params),
    "rmsprop alpha eps": lambda optim, params: optim.RMSprop(params, lr=0.003, alpha=0.9, eps=1e-6),
    "rmsprop momentum": lambda optim, params: optim.RMSprop(params, lr=0.002, momentum=0.9),
    "rmsprop centered": lambda optim, params: optim.RMSprop(params, lr=0.003, centered=True),
    "rmsprop everything": lambda optim, params: optim.RMSprop(params, lr=0.002, alpha=0.95, eps=1e-7,
                                                              weight_decay=0.01, momentum=0.5, centered=True),
    "rmsprop groups": lambda optim, params: optim.RMSprop(
        [{"params": params[:2], "momentum": 0.9}, {"params": params[2:], "centered": True}], lr=0.001),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_matches_torch_over_many_steps(name):
    make = OPTIMIZERS[name]
    ours, theirs = twins(lambda: mlp(mg.nn), lambda: mlp(torch.nn))
    mg_opt = make(mg.optim, list(ours.parameters()))
    torch_opt = make(torch.optim, list(theirs.parameters()))
    rng = np.random.default_rng(3)
    losses = []
    for step in range(25):
        x, y = rng.normal(size=(16, 4)), rng.normal(size=(16, 1))
        results = []
        for model, optimizer, lib in ((ours, mg_opt, mg), (theirs, torch_opt, torch)):
            optimizer.zero_grad()
            loss = ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
            loss.backward()
            optimizer.step()
            results.append(loss.item())
        np.testing.assert_allclose(results[0], results[1], err_msg=f"step {step}", **TOLERANCE)
        losses.append(results[0])
    for (name_ours, p), (name_theirs, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name_ours == name_theirs
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), err_msg=name_ours, **TOLERANCE)
    assert losses[-1] < losses[0]  # it did train


# --- the book's MNIST GAN, unchanged but for the imports --------------------------------------------

BOOK_CODE = '''
class Discriminator(nn.Module):

    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(784, 200),
            nn.LeakyReLU(0.02),
            nn.LayerNorm(200),
            nn.Linear(200, 1),
            nn.Sigmoid()
        )
        self.loss_function = nn.BCELoss()
        self.optimiser = torch.optim.Adam(self.parameters(), lr=0.0001)
        self.counter = 0
        self.progress = []

    def forward(self, inputs):
        return self.model(inputs)

    def train(self, inputs, targets):
        outputs = self.forward(inputs)
        loss = self.loss_function(outputs, targets)
        self.counter += 1
        if (self.counter % 10 == 0):
            self.progress.append(loss.item())
        self.optimiser.zero_grad()
        loss.backward()
        self.optimiser.step()


class Generator(nn.Module):

    def __init__(self):
        super().__init__()
        self.model = nn.Sequential(
            nn.Linear(100, 200),
            nn.LeakyReLU(0.02),
            nn.LayerNorm(200),
            nn.Linear(200, 784),
            nn.Sigmoid()
        )
        self.optimiser = torch.optim.Adam(self.parameters(), lr=0.0001)
        self.counter = 0
        self.progress = []

    def forward(self, inputs):
        return self.model(inputs)

    def train(self, D, inputs, targets):
        g_output = self.forward(inputs)
        d_output = D.forward(g_output)
        loss = D.loss_function(d_output, targets)
        self.counter += 1
        if (self.counter % 10 == 0):
            self.progress.append(loss.item())
        self.optimiser.zero_grad()
        loss.backward()
        self.optimiser.step()


def train_gan(D, G, images, seeds):
    """The book's training loop, in float64; returns D's loss on each real image after its step."""
    real = torch.tensor([1.0], dtype=torch.float64)
    fake = torch.tensor([0.0], dtype=torch.float64)
    trajectory = []
    for image_data_tensor, (seed_for_d, seed_for_g) in zip(images, seeds):
        D.train(image_data_tensor, real)
        D.train(G.forward(seed_for_d).detach(), fake)
        G.train(D, seed_for_g, real)
        trajectory.append(D.loss_function(D.forward(image_data_tensor), real).item())
    return trajectory
'''

IMPORTS = {
    "torch": "import torch\nimport torch.nn as nn\n",
    "minigrad": "import minigrad as torch\nimport minigrad.nn as nn\n",
}


def book_module(framework):
    namespace = {}
    exec(compile(IMPORTS[framework] + BOOK_CODE, f"<book, {framework}>", "exec"), namespace)
    return namespace


def test_the_books_mnist_gan_trains_identically_under_both_frameworks():
    ours, theirs = book_module("minigrad"), book_module("torch")
    mg.manual_seed(0)
    D, G = ours["Discriminator"]().double(), ours["Generator"]().double()  # after the optimisers are made
    torch_D, torch_G = theirs["Discriminator"]().double(), theirs["Generator"]().double()
    for source, target in ((D, torch_D), (G, torch_G)):
        target.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in source.state_dict().items()})

    rng = np.random.default_rng(0)
    steps = 10
    images = rng.uniform(0, 1, size=(steps, 784))
    seeds = rng.uniform(0, 1, size=(steps, 2, 100))  # the book's generate_random_seed is randn; any draw will do

    trajectory = ours["train_gan"](D, G, [mg.tensor(a) for a in images],
                                   [(mg.tensor(a), mg.tensor(b)) for a, b in seeds])
    expected = theirs["train_gan"](torch_D, torch_G, [torch.tensor(a) for a in images],
                                   [(torch.tensor(a), torch.tensor(b)) for a, b in seeds])
    np.testing.assert_allclose(trajectory, expected, **TOLERANCE)
    assert D.counter == 2 * steps and G.counter == steps
    np.testing.assert_allclose(D.progress, torch_D.progress, **TOLERANCE)
    np.testing.assert_allclose(G.progress, torch_G.progress, **TOLERANCE)
    assert len(D.progress) == 2 and len(G.progress) == 1
    for ours_model, theirs_model in ((D, torch_D), (G, torch_G)):
        for (name, p), q in zip(ours_model.named_parameters(), theirs_model.parameters()):
            np.testing.assert_allclose(p.numpy(), q.detach().numpy(), err_msg=name, **TOLERANCE)
    assert trajectory[-1] != trajectory[0]  # the parameters moved
    assert all(p.dtype == np.float64 for p in D.parameters())


# --- more layers: InstanceNorm2d's running statistics, implicit softmax dims, clip_grad_norm_ ------------

@pytest.mark.parametrize("options", [{"track_running_stats": True}, {"track_running_stats": True, "affine": True,
                                                                     "momentum": 0.3}], ids=["plain", "affine"])
def test_instance_norm_running_statistics_match_torch(options):
    ours, theirs = twins(lambda: mg.nn.InstanceNorm2d(3, **options), lambda: torch.nn.InstanceNorm2d(3, **options))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for step in range(3):
        compare_forward_backward(ours, theirs, normal(2, 3, 4, 5, seed=step) * (step + 1) + step, seed=step)
        for name, value in theirs.state_dict().items():
            np.testing.assert_allclose(ours.state_dict()[name].numpy(), value.numpy(), err_msg=name, **TOLERANCE)
    ours.eval(), theirs.eval()
    compare_forward_backward(ours, theirs, normal(2, 3, 4, 5, seed=9) + 2)  # the running statistics are used


@pytest.mark.parametrize("module", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("shape", [(5,), (2, 5), (2, 3, 4), (2, 3, 4, 2)])
def test_softmax_without_dim_follows_torchs_implicit_rule(module, shape):
    x = normal(*shape)
    with pytest.warns(UserWarning, match="Implicit dimension choice") as ours_warned:
        ours = getattr(mg.nn, module)()(mg.tensor(x))
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        theirs = getattr(torch.nn, module)()(to_torch(x))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), **TOLERANCE)
    assert ours_warned[0].filename == __file__  # the warning points at the caller's line


@pytest.mark.parametrize("max_norm, norm_type", [(0.5, 2.0), (100.0, 2), (0.1, 1), (0.2, float("inf")), (1.0, 3.0)])
def test_clip_grad_norm_matches_torch(max_norm, norm_type):
    ours, theirs = twins(lambda: mlp(mg.nn), lambda: mlp(torch.nn))
    x = normal(16, 4)
    (ours(mg.tensor(x)) ** 2).mean().backward()
    (theirs(to_torch(x)) ** 2).mean().backward()
    total = mg.nn.utils.clip_grad_norm_(ours.parameters(), max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs.parameters(), max_norm, norm_type=norm_type)
    assert isinstance(total, mg.Tensor) and total.shape == ()
    np.testing.assert_allclose(total.item(), expected.item(), **TOLERANCE)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), **TOLERANCE)


def test_clip_grad_value_matches_torch():
    ours, theirs = twins(lambda: mlp(mg.nn), lambda: mlp(torch.nn))
    x = normal(16, 4)
    (ours(mg.tensor(x)) ** 2).mean().backward()
    (theirs(to_torch(x)) ** 2).mean().backward()
    mg.nn.utils.clip_grad_value_(ours.parameters(), 0.01)
    torch.nn.utils.clip_grad_value_(theirs.parameters(), 0.01)
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), **TOLERANCE)


def test_module_apply_visits_modules_in_torchs_order():
    def visit(framework):
        nn = framework.nn
        model = nn.Sequential(nn.Linear(2, 3), nn.Sequential(nn.ReLU(), nn.Linear(3, 1)), nn.Sigmoid())
        seen = []
        assert model.apply(lambda m: seen.append(type(m).__name__)) is model
        return seen
    assert visit(mg) == visit(torch)


# --- learning-rate schedules --------------------------------------------------------------------------

SCHEDULES = {
    "step": lambda optim, opt: optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
    "step default gamma": lambda optim, opt: optim.lr_scheduler.StepLR(opt, 2),
    "lambda": lambda optim, opt: optim.lr_scheduler.LambdaLR(opt, lambda epoch: 0.9 ** epoch),
    "lambda linear decay": lambda optim, opt: optim.lr_scheduler.LambdaLR(
        opt, lr_lambda=lambda epoch: 1.0 - max(0, epoch - 3) / 10),  # CycleGAN's schedule
}


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop groups"])
@pytest.mark.parametrize("name", SCHEDULES)
def test_schedulers_match_torch(name, optimizer):
    make_optimizer, make_schedule = OPTIMIZERS[optimizer], SCHEDULES[name]
    ours, theirs = twins(lambda: mlp(mg.nn), lambda: mlp(torch.nn))
    mg_opt = make_optimizer(mg.optim, list(ours.parameters()))
    torch_opt = make_optimizer(torch.optim, list(theirs.parameters()))
    mg_schedule, torch_schedule = make_schedule(mg.optim, mg_opt), make_schedule(torch.optim, torch_opt)
    assert mg_schedule.get_last_lr() == torch_schedule.get_last_lr()
    rng = np.random.default_rng(5)
    for epoch in range(8):
        for _ in range(2):
            x, y = rng.normal(size=(8, 4)), rng.normal(size=(8, 1))
            for model, opt, lib in ((ours, mg_opt, mg), (theirs, torch_opt, torch)):
                opt.zero_grad()
                ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean().backward()
                opt.step()
        mg_schedule.step()
        torch_schedule.step()
        assert mg_schedule.get_last_lr() == torch_schedule.get_last_lr(), f"epoch {epoch}"  # to the last bit
        assert [g["lr"] for g in mg_opt.param_groups] == [g["lr"] for g in torch_opt.param_groups]
    assert mg_schedule.last_epoch == torch_schedule.last_epoch == 8
    for p, q in zip(ours.parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), **TOLERANCE)


def test_optimizer_state_dict_has_torchs_shape():
    ours, theirs = twins(lambda: mlp(mg.nn), lambda: mlp(torch.nn))
    for make in (OPTIMIZERS["rmsprop everything"], OPTIMIZERS["adam"], OPTIMIZERS["sgd momentum"]):
        mg_opt, torch_opt = make(mg.optim, list(ours.parameters())), make(torch.optim, list(theirs.parameters()))
        for model, opt, lib in ((ours, mg_opt, mg), (theirs, torch_opt, torch)):
            (model(lib.tensor(normal(3, 4))) ** 2).sum().backward()
            opt.step()
        mine, expected = mg_opt.state_dict(), torch_opt.state_dict()
        assert sorted(mine) == sorted(expected) == ["param_groups", "state"]
        assert sorted(mine["state"]) == sorted(expected["state"])
        assert set(expected["state"][0]) <= set(mine["state"][0])  # torch omits unused buffers
        for key in set(expected["state"][0]) - {"step"}:
            np.testing.assert_allclose(mine["state"][0][key].numpy(), expected["state"][0][key].numpy(), **TOLERANCE)
        if "step" in expected["state"][0]:  # torch's SGD keeps no step count
            assert mine["state"][0]["step"] == int(expected["state"][0]["step"])
        ours_group, their_group = mine["param_groups"][0], expected["param_groups"][0]
        assert set(ours_group) <= set(their_group)
        assert {k: ours_group[k] for k in ours_group} == {k: their_group[k] for k in ours_group}
