"""minigrad/nn/attention.py and minigrad/nn/transformer.py: scaled_dot_product_attention,
multi_head_attention_forward, MultiheadAttention and the Transformer layers and stacks.

Against PyTorch (float64, the same weights through state_dict, eval mode so dropout is off, inputs that
require grad so PyTorch takes its ordinary path rather than the inference fast path): outputs, attention
weights and the gradients of every input and every parameter agree to 1e-10, with and without masks (bool
and float, attention and padding), batch first or not, need_weights both ways, unbatched. The state_dict
keys are PyTorch's, in PyTorch's order. Without PyTorch: gradcheck (and gradgradcheck for attention)
through the layers, the initialisation, dropout in training, the errors.
"""

import math
import warnings

import numpy as np
import pytest

import minigrad as mg
from helpers import normal, torch  # noqa: F401  (torch: a fixture)
import minigrad.nn.functional as F
from minigrad import nn

TOLERANCE = dict(rtol=1e-10, atol=1e-10)


def twins(torch, name, *args, **kwargs):
    """The same module in both frameworks, float64, in eval mode, minigrad's holding torch's weights."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's note that it will not use nested tensors
        theirs = getattr(torch.nn, name)(*args, **kwargs).double().eval()
    ours = getattr(nn, name)(*args, **kwargs).double().eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({key: value.detach().numpy() for key, value in theirs.state_dict().items()})
    return ours, theirs


def as_tensors(framework, values, differentiable):
    """NumPy arrays -> the framework's tensors; floating ones named in `differentiable` require grad."""
    make = framework.tensor
    return {name: (make(v, requires_grad=True) if name in differentiable else make(v)) if isinstance(v, np.ndarray)
            else v for name, v in values.items()}


def compare(torch, ours, theirs, args, kwargs=(), differentiable=()):
    """Call both with the same positional arrays `args` (a dict name -> array, in order) and keyword
    arguments; backward from the same random cotangents; compare every output and the gradients of
    the `differentiable` inputs and of every parameter. Returns minigrad's outputs."""
    kwargs = dict(kwargs)
    names = list(args) + list(kwargs)
    values = {**args, **kwargs}
    mg_in, torch_in = as_tensors(mg, values, differentiable), as_tensors(torch, values, differentiable)
    got = ours(*(mg_in[n] for n in args), **{n: mg_in[n] for n in kwargs})
    expected = theirs(*(torch_in[n] for n in args), **{n: torch_in[n] for n in kwargs})
    got = list(got) if isinstance(got, tuple) else [got]
    expected = list(expected) if isinstance(expected, tuple) else [expected]
    assert len(got) == len(expected)
    mg_loss, torch_loss = mg.tensor(0.0, dtype=mg.float64), 0.0
    for i, (g, e) in enumerate(zip(got, expected)):
        if e is None:
            assert g is None
            continue
        assert g.shape == tuple(e.shape)
        np.testing.assert_allclose(g.numpy(), e.detach().numpy(), **TOLERANCE, err_msg=f"output {i}")
        cotangent = normal(*e.shape, seed=i + 1)
        mg_loss = mg_loss + (g * mg.tensor(cotangent)).sum()
        torch_loss = torch_loss + (e * torch.tensor(cotangent)).sum()
    mg_loss.backward()
    torch_loss.backward()
    for name in names:
        if name in differentiable:
            np.testing.assert_allclose(mg_in[name].grad.numpy(), torch_in[name].grad.numpy(), **TOLERANCE,
                                       err_msg=name)
    theirs_params = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(theirs_params)
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(param.grad.numpy(), theirs_params[name].grad.numpy(), **TOLERANCE, err_msg=name)
    return got


def padding(batch, length, padded):
    """(batch, length) bool: True at the last `padded[n]` positions of sequence n."""
    mask = np.zeros((batch, length), dtype=bool)
    for n, count in enumerate(padded):
        if count:
            mask[n, -count:] = True
    return mask


def as_float(mask):
    """A bool mask as the float mask PyTorch makes of it: -inf where True, else 0."""
    return np.where(mask, -np.inf, 0.0)


def causal(length, source=None):
    """(length, source) bool: True above the diagonal (where a query may not attend)."""
    return np.triu(np.ones((length, source or length), dtype=bool), 1)


# --- MultiheadAttention against PyTorch ------------------------------------------------------

L, S, N, E, HEADS = 4, 5, 3, 6, 2

MASKS = {
    "none": {},
    "padding": {"key_padding_mask": padding(N, S, [0, 2, 1])},
    "bool_attn": {"attn_mask": causal(L, S)},
    "float_attn_3d": {"attn_mask": normal(N * HEADS, L, S, seed=7)},
    "both_bool": {"attn_mask": causal(L, S), "key_padding_mask": padding(N, S, [1, 0, 3])},
    "both_float": {"attn_mask": as_float(causal(L, S)), "key_padding_mask": as_float(padding(N, S, [1, 0, 3]))},
}


@pytest.mark.parametrize("masks", MASKS, ids=list(MASKS))
@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
@pytest.mark.parametrize("need_weights, average", [(True, True), (True, False), (False, True)],
                         ids=["weights_averaged", "weights_per_head", "no_weights"])
def test_multihead_attention_matches_torch(torch, masks, batch_first, need_weights, average):
    ours, theirs = twins(torch, "MultiheadAttention", E, HEADS, batch_first=batch_first)
    shape = (lambda length: (N, length, E)) if batch_first else (lambda length: (length, N, E))
    args = {"query": normal(*shape(L), seed=1), "key": normal(*shape(S), seed=2), "value": normal(*shape(S), seed=3)}
    kwargs = {**MASKS[masks], "need_weights": need_weights, "average_attn_weights": average}
    output, weights = compare(torch, ours, theirs, args, kwargs, differentiable=("query", "key", "value"))
    assert output.shape == shape(L)
    if need_weights:
        assert weights.shape == ((N, L, S) if average else (N, HEADS, L, S))
        np.testing.assert_allclose(weights.numpy().sum(-1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("need_weights", [True, False])
def test_self_attention_with_causal_hint_matches_torch(torch, need_weights):
    """is_causal=True with the causal mask: the same result on both of PyTorch's paths."""
    ours, theirs = twins(torch, "MultiheadAttention", E, HEADS)
    x = normal(L, N, E)
    mg_x, torch_x = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    got = ours(mg_x, mg_x, mg_x, attn_mask=mg.tensor(causal(L)), is_causal=True, need_weights=need_weights)[0]
    expected = theirs(torch_x, torch_x, torch_x, attn_mask=torch.tensor(causal(L)), is_causal=True,
                      need_weights=need_weights)[0]
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), **TOLERANCE)
    got.sum().backward()
    expected.sum().backward()
    np.testing.assert_allclose(mg_x.grad.numpy(), torch_x.grad.numpy(), **TOLERANCE)


CONFIGS = {
    "kdim_vdim": dict(kdim=4, vdim=3),
    "no_bias": dict(bias=False),
    "bias_kv": dict(add_bias_kv=True),
    "zero_attn": dict(add_zero_attn=True),
    "bias_kv_zero_attn": dict(add_bias_kv=True, add_zero_attn=True),
}


@pytest.mark.parametrize("config", CONFIGS, ids=list(CONFIGS))
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_options_match_torch(torch, config, need_weights):
    ours, theirs = twins(torch, "MultiheadAttention", E, HEADS, **CONFIGS[config])
    key_dim, value_dim = CONFIGS[config].get("kdim", E), CONFIGS[config].get("vdim", E)
    args = {"query": normal(L, N, E, seed=1), "key": normal(S, N, key_dim, seed=2),
            "value": normal(S, N, value_dim, seed=3)}
    kwargs = {"key_padding_mask": padding(N, S, [0, 1, 2]), "attn_mask": causal(L, S), "need_weights": need_weights}
    compare(torch, ours, theirs, args, kwargs, differentiable=("query", "key", "value"))


@pytest.mark.parametrize("need_weights", [True, False])
def test_unbatched_multihead_attention_matches_torch(torch, need_weights):
    ours, theirs = twins(torch, "MultiheadAttention", E, HEADS, batch_first=True)  # ignored when unbatched
    args = {"query": normal(L, E, seed=1), "key": normal(S, E, seed=2), "value": normal(S, E, seed=3)}
    kwargs = {"key_padding_mask": np.array([0.0, 0.0, -np.inf, 0.0, -np.inf]),
              "attn_mask": normal(HEADS, L, S, seed=4), "need_weights": need_weights}
    output, weights = compare(torch, ours, theirs, args, kwargs, differentiable=("query", "key", "value"))
    assert output.shape == (L, E)
    assert weights is None if not need_weights else weights.shape == (L, S)


def test_fully_masked_query_gives_nan_weights_or_zeros_as_torch(torch):
    """A query that may attend to nothing: NaN where the weights are formed (need_weights=True), zeros
    through scaled_dot_product_attention (need_weights=False), in both frameworks."""
    ours, theirs = twins(torch, "MultiheadAttention", E, HEADS)
    x = normal(L, N, E)
    mask = np.zeros((N, L), dtype=bool)
    mask[1] = True
    for need_weights in (True, False):
        with np.errstate(invalid="ignore"):  # NaN is the expected result
            got = ours(*[mg.tensor(x)] * 3, key_padding_mask=mg.tensor(mask), need_weights=need_weights)[0].numpy()
        expected = theirs(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(mask),
                          need_weights=need_weights)[0].detach().numpy()
        np.testing.assert_allclose(got, expected, **TOLERANCE)  # NaN equals NaN here
        assert np.isnan(got[:, 1]).all() == need_weights


# --- scaled_dot_product_attention against PyTorch ----------------------------------------------

SDPA_CASES = {
    "plain": {},
    "bool_mask": {"attn_mask": ~causal(L, S)},
    "bool_mask_broadcast": {"attn_mask": normal(N, 1, L, S, seed=5) > 0},
    "float_mask": {"attn_mask": normal(L, S, seed=6)},
    "causal": {"is_causal": True},
    "scale": {"scale": 0.3},
    "fully_masked_rows": {"attn_mask": np.zeros((L, S), dtype=bool)},
}


@pytest.mark.parametrize("case", SDPA_CASES, ids=list(SDPA_CASES))
def test_scaled_dot_product_attention_matches_torch(torch, case):
    q, k, v = normal(N, HEADS, L, 4, seed=1), normal(N, HEADS, S, 4, seed=2), normal(N, HEADS, S, 3, seed=3)
    kwargs = SDPA_CASES[case]

    def run(framework, function):
        tensors = [framework.tensor(a, requires_grad=True) for a in (q, k, v)]
        extra = {key: framework.tensor(val) if isinstance(val, np.ndarray) else val for key, val in kwargs.items()}
        out = function(*tensors, **extra)
        (out * framework.tensor(normal(*out.shape, seed=9))).sum().backward()
        return [out.detach().numpy()] + [t.grad.numpy() for t in tensors]

    got = run(mg, F.scaled_dot_product_attention)
    expected = run(torch, torch.nn.functional.scaled_dot_product_attention)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, **TOLERANCE)
    if case == "fully_masked_rows":
        assert (got[0] == 0).all()


def test_scaled_dot_product_attention_grouped_query(torch):
    q, k, v = normal(2, 4, L, 3, seed=1), normal(2, 2, S, 3, seed=2), normal(2, 2, S, 3, seed=3)
    got = F.scaled_dot_product_attention(mg.tensor(q), mg.tensor(k), mg.tensor(v), enable_gqa=True)
    expected = torch.nn.functional.scaled_dot_product_attention(torch.tensor(q), torch.tensor(k), torch.tensor(v),
                                                                enable_gqa=True)
    np.testing.assert_allclose(got.numpy(), expected.numpy(), **TOLERANCE)


def test_scaled_dot_product_attention_is_the_formula():
    """softmax(q k^T / sqrt(E)) v written out in NumPy, without PyTorch."""
    q, k, v = normal(L, 4, seed=1), normal(S, 4, seed=2), normal(S, 3, seed=3)
    scores = q @ k.T / 2.0
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    got = F.scaled_dot_product_attention(mg.tensor(q), mg.tensor(k), mg.tensor(v))
    np.testing.assert_allclose(got.numpy(), weights @ v, rtol=1e-12)


def test_functional_multi_head_attention_forward_matches_torch(torch):
    ours, theirs = twins(torch, "MultiheadAttention", E, HEADS)
    x = normal(L, N, E)
    common = (E, HEADS)
    got = F.multi_head_attention_forward(*[mg.tensor(x)] * 3, *common, ours.in_proj_weight, ours.in_proj_bias,
                                         None, None, False, 0.0, ours.out_proj.weight, ours.out_proj.bias,
                                         attn_mask=mg.tensor(causal(L)))
    expected = torch.nn.functional.multi_head_attention_forward(
        *[torch.tensor(x)] * 3, *common, theirs.in_proj_weight, theirs.in_proj_bias, None, None, False, 0.0,
        theirs.out_proj.weight, theirs.out_proj.bias, attn_mask=torch.tensor(causal(L)))
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g.numpy(), e.detach().numpy(), **TOLERANCE)


# --- the Transformer layers and stacks against PyTorch ----------------------------------------

D_MODEL, FEEDFORWARD = 6, 8

LAYER_CONFIGS = {
    "default": dict(),
    "norm_first": dict(norm_first=True),
    "batch_first": dict(batch_first=True),
    "gelu": dict(activation="gelu"),
    "callable_activation": dict(activation="tanh"),  # replaced by each framework's tanh below
    "no_bias_eps": dict(bias=False, layer_norm_eps=1e-3),
}


def layer_config(torch, config, framework):
    kwargs = dict(LAYER_CONFIGS[config], dim_feedforward=FEEDFORWARD, dropout=0.1)
    if kwargs.get("activation") == "tanh":
        kwargs["activation"] = torch.tanh if framework is torch else mg.tanh
    return kwargs


def layer_twins(torch, name, config, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = getattr(torch.nn, name)(*args, **layer_config(torch, config, torch)).double().eval()
    ours = getattr(nn, name)(*args, **layer_config(torch, config, mg)).double().eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({key: value.detach().numpy() for key, value in theirs.state_dict().items()})
    return ours, theirs


def sequence(config, length, seed):
    shape = (N, length, D_MODEL) if config == "batch_first" else (length, N, D_MODEL)
    return normal(*shape, seed=seed)


@pytest.mark.parametrize("config", LAYER_CONFIGS, ids=list(LAYER_CONFIGS))
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_encoder_layer_matches_torch(torch, config, masked):
    ours, theirs = layer_twins(torch, "TransformerEncoderLayer", config, D_MODEL, HEADS)
    kwargs = {"src_mask": causal(S), "src_key_padding_mask": padding(N, S, [0, 2, 1])} if masked else {}
    compare(torch, ours, theirs, {"src": sequence(config, S, 1)}, kwargs, differentiable=("src",))


@pytest.mark.parametrize("config", LAYER_CONFIGS, ids=list(LAYER_CONFIGS))
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_decoder_layer_matches_torch(torch, config, masked):
    ours, theirs = layer_twins(torch, "TransformerDecoderLayer", config, D_MODEL, HEADS)
    kwargs = {}
    if masked:
        kwargs = {"tgt_mask": as_float(causal(L)), "memory_mask": causal(L, S),
                  "tgt_key_padding_mask": as_float(padding(N, L, [1, 0, 0])),
                  "memory_key_padding_mask": padding(N, S, [0, 3, 1])}
    args = {"tgt": sequence(config, L, 1), "memory": sequence(config, S, 2)}
    compare(torch, ours, theirs, args, kwargs, differentiable=("tgt", "memory"))


def test_unbatched_layers_match_torch(torch):
    ours, theirs = layer_twins(torch, "TransformerEncoderLayer", "default", D_MODEL, HEADS)
    compare(torch, ours, theirs, {"src": normal(S, D_MODEL)}, {"src_mask": causal(S)}, differentiable=("src",))
    ours, theirs = layer_twins(torch, "TransformerDecoderLayer", "norm_first", D_MODEL, HEADS)
    compare(torch, ours, theirs, {"tgt": normal(L, D_MODEL, seed=1), "memory": normal(S, D_MODEL, seed=2)},
            {"memory_key_padding_mask": np.array([False, True, False, False, True])},
            differentiable=("tgt", "memory"))


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
def test_encoder_and_decoder_stacks_match_torch(torch, batch_first, norm_first):
    config = "batch_first" if batch_first else "default"
    layer_kwargs = dict(dim_feedforward=FEEDFORWARD, batch_first=batch_first, norm_first=norm_first)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, **layer_kwargs), 2,
                                             torch.nn.LayerNorm(D_MODEL)).double().eval()
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(D_MODEL, HEADS, **layer_kwargs), 2,
                                 nn.LayerNorm(D_MODEL)).double().eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({key: value.detach().numpy() for key, value in theirs.state_dict().items()})
    mask = nn.Transformer.generate_square_subsequent_mask(S, dtype=mg.float64).numpy()  # detected as causal by both
    compare(torch, ours, theirs, {"src": sequence(config, S, 1)},
            {"mask": mask, "src_key_padding_mask": as_float(padding(N, S, [0, 1, 2]))}, differentiable=("src",))

    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(D_MODEL, HEADS, **layer_kwargs), 2).double()
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(D_MODEL, HEADS, **layer_kwargs), 2).double()
    ours.load_state_dict({key: value.detach().numpy() for key, value in theirs.eval().state_dict().items()})
    ours.eval()
    compare(torch, ours, theirs, {"tgt": sequence(config, L, 2), "memory": sequence(config, S, 3)},
            {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(L, dtype=mg.float64).numpy(),
             "memory_key_padding_mask": padding(N, S, [2, 0, 1])}, differentiable=("tgt", "memory"))


@pytest.mark.parametrize("batch_first", [False, True], ids=["seq_first", "batch_first"])
def test_transformer_matches_torch(torch, batch_first):
    args = dict(d_model=D_MODEL, nhead=HEADS, num_encoder_layers=2, num_decoder_layers=1,
                dim_feedforward=FEEDFORWARD, batch_first=batch_first)
    ours, theirs = twins(torch, "Transformer", **args)
    config = "batch_first" if batch_first else "default"
    kwargs = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(L, dtype=mg.float64).numpy(),
              "src_key_padding_mask": padding(N, S, [0, 1, 2]),
              "memory_key_padding_mask": padding(N, S, [0, 1, 2]),
              "tgt_key_padding_mask": as_float(padding(N, L, [1, 0, 0]))}
    output = compare(torch, ours, theirs, {"src": sequence(config, S, 1), "tgt": sequence(config, L, 2)}, kwargs,
                     differentiable=("src", "tgt"))[0]
    assert output.shape == ((N, L, D_MODEL) if batch_first else (L, N, D_MODEL))


def test_state_dict_keys_and_shapes_are_torchs(torch):
    """Every module's state_dict has PyTorch's keys, order and shapes, and PyTorch's weights load."""
    modules = [("MultiheadAttention", (8, 2), {}), ("MultiheadAttention", (8, 2), dict(kdim=3, vdim=5)),
               ("MultiheadAttention", (8, 4), dict(add_bias_kv=True, bias=False)),
               ("TransformerEncoderLayer", (8, 2, 16), {}), ("TransformerDecoderLayer", (8, 2, 16), {}),
               ("Transformer", (8, 2, 1, 2, 16), {})]
    for name, args, kwargs in modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = getattr(torch.nn, name)(*args, **kwargs)
        ours = getattr(nn, name)(*args, **kwargs)
        assert [(k, tuple(v.shape)) for k, v in ours.state_dict().items()] == \
               [(k, tuple(v.shape)) for k, v in theirs.state_dict().items()], name
        ours.load_state_dict({key: value.detach().numpy() for key, value in theirs.state_dict().items()})
        for key, value in theirs.state_dict().items():
            np.testing.assert_array_equal(ours.state_dict()[key].numpy(), value.numpy(), err_msg=key)


def test_generate_square_subsequent_mask_is_torchs(torch):
    for size in (1, 4):
        np.testing.assert_array_equal(nn.Transformer.generate_square_subsequent_mask(size).numpy(),
                                      torch.nn.Transformer.generate_square_subsequent_mask(size).numpy())
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=mg.float64)
    assert mask.dtype == mg.float64
    np.testing.assert_array_equal(mask.numpy(), [[0, -np.inf, -np.inf], [0, 0, -np.inf], [0, 0, 0]])


def test_mismatched_mask_types_warn_as_torch(torch):
    ours, theirs = twins(torch, "MultiheadAttention", E, HEADS)
    x = normal(L, N, E)
    masks = dict(attn_mask=as_float(causal(L)), key_padding_mask=padding(N, L, [0, 1, 0]))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        got = ours(*[mg.tensor(x)] * 3, **{k: mg.tensor(v) for k, v in masks.items()})[0]
    with pytest.warns(UserWarning, match="mismatched"):
        expected = theirs(*[torch.tensor(x)] * 3, **{k: torch.tensor(v) for k, v in masks.items()})[0]
    np.testing.assert_allclose(got.numpy(), expected.detach().numpy(), **TOLERANCE)


# --- without PyTorch -------------------------------------------------------------------------

def test_initialisation_is_torchs():
    """xavier_uniform_ in_proj_weight, zero in_proj_bias and out_proj.bias; out_proj.weight as Linear's;
    Transformer: xavier_uniform_ on every weight matrix. Checked against the bound sqrt(6 / (fan_in + fan_out))
    and the uniform law's standard deviation bound / sqrt(3) (768 draws: the sample std is within 8%)."""
    mg.manual_seed(0)
    attention = nn.MultiheadAttention(16, 4)
    bound = math.sqrt(6 / (16 + 48))
    weight = attention.in_proj_weight.numpy()
    assert np.abs(weight).max() <= bound
    assert abs(weight.std() / (bound / math.sqrt(3)) - 1) < 0.08
    assert (attention.in_proj_bias.numpy() == 0).all() and (attention.out_proj.bias.numpy() == 0).all()
    assert np.abs(attention.out_proj.weight.numpy()).max() <= 1 / math.sqrt(16)
    model = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=32)
    linear1 = model.encoder.layers[0].linear1.weight.numpy()  # (32, 16): xavier's bound, wider than Linear's
    assert np.abs(linear1).max() <= math.sqrt(6 / 48) and np.abs(linear1).max() > 1 / math.sqrt(16)


def test_stacked_layers_are_independent_copies():
    layer = nn.TransformerEncoderLayer(4, 2, 8)
    encoder = nn.TransformerEncoder(layer, 3)
    weights = [m.linear1.weight for m in encoder.layers]
    assert len({id(w) for w in weights}) == 3 and all(w is not layer.linear1.weight for w in weights)
    np.testing.assert_array_equal(weights[0].numpy(), weights[2].numpy())
    assert len(list(encoder.parameters())) == 3 * len(list(layer.parameters()))


def test_gradcheck_through_multihead_attention():
    mg.manual_seed(1)
    attention = nn.MultiheadAttention(4, 2, kdim=3, vdim=2).double()
    query = mg.randn(3, 2, 4, dtype=mg.float64, requires_grad=True)
    key = mg.randn(3, 2, 3, dtype=mg.float64, requires_grad=True)
    value = mg.randn(3, 2, 2, dtype=mg.float64, requires_grad=True)
    mask = mg.tensor([[False, True, False], [False, False, True], [True, False, False]])
    padding_mask = mg.tensor([[False, False, False], [False, False, True]])
    for need_weights in (True, False):
        def attend(q, k, v):
            return attention(q, k, v, attn_mask=mask, key_padding_mask=padding_mask, need_weights=need_weights)[0]
        assert mg.gradcheck(attend, (query, key, value))
    assert mg.gradgradcheck(lambda q, k, v: attention(q, k, v, attn_mask=mask)[0], (query, key, value))


def test_gradcheck_through_scaled_dot_product_attention():
    mg.manual_seed(2)
    q, k, v = (mg.randn(2, 3, 2, dtype=mg.float64, requires_grad=True) for _ in range(3))
    mask = mg.tensor([[True, False, False], [True, True, False], [False, False, False]])  # last row: no key
    assert mg.gradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, attn_mask=mask), (q, k, v))
    assert mg.gradgradcheck(lambda a, b, c: F.scaled_dot_product_attention(a, b, c, is_causal=True), (q, k, v))


@pytest.mark.parametrize("norm_first", [False, True], ids=["post_norm", "pre_norm"])
def test_gradcheck_through_encoder_and_decoder_layers(norm_first):
    mg.manual_seed(3)
    encoder = nn.TransformerEncoderLayer(4, 2, 6, norm_first=norm_first, activation="gelu").double().eval()
    decoder = nn.TransformerDecoderLayer(4, 2, 6, norm_first=norm_first).double().eval()
    src = mg.randn(3, 2, 4, dtype=mg.float64, requires_grad=True)
    tgt = mg.randn(2, 2, 4, dtype=mg.float64, requires_grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=mg.float64)
    assert mg.gradcheck(lambda x: encoder(x, src_mask=mask), (src,))
    assert mg.gradcheck(lambda t, m: decoder(t, m), (tgt, src))


def test_dropout_acts_in_training_only():
    """Training: attention weights are dropped (seeded, so reproducible) and the rest scaled by 1/(1-p),
    so the rows no longer sum to 1; eval: the same module gives the exact softmax."""
    attention = nn.MultiheadAttention(4, 2, dropout=0.5).double()
    x = mg.randn(6, 2, 4, dtype=mg.float64)
    mg.manual_seed(5)
    first = attention(x, x, x, average_attn_weights=False)[1].numpy()
    mg.manual_seed(5)
    second = attention(x, x, x, average_attn_weights=False)[1].numpy()
    np.testing.assert_array_equal(first, second)
    assert (first == 0).any() and set(np.unique(first[first != 0] > 0)) == {True}
    assert np.abs(first.sum(-1) - 1).max() > 1e-3
    attention.eval()
    weights = attention(x, x, x, average_attn_weights=False)[1].numpy()
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-12)
    assert (weights > 0).all()


def test_errors_as_torch():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(5, 2)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 2)
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(4, 2, activation="tanh")
    attention = nn.MultiheadAttention(4, 2)
    x = mg.randn(3, 2, 4)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        attention(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask are supported"):
        attention(x, x, x, attn_mask=mg.zeros(3, 3, dtype=mg.int64))
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is \(3, 2\), but should be \(3, 3\)"):
        attention(x, x, x, attn_mask=mg.zeros(3, 2, dtype=mg.bool))
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        attention(x, x[0], x[0])
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 4, but got 3"):
        attention(x[..., :3], x[..., :3], x[..., :3])
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set when is_causal=True"):
        F.scaled_dot_product_attention(x, x, x, attn_mask=mg.ones(3, 3, dtype=mg.bool), is_causal=True)
    model = nn.Transformer(d_model=4, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=8)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(mg.randn(3, 2, 4), mg.randn(3, 1, 4))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        model(mg.randn(3, 2, 4), mg.randn(3, 2, 3))
