"""Attention layers, as torch.nn: MultiheadAttention, and the Transformer of "Attention Is All You Need"
built from it: TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder
and Transformer.

    layer = nn.TransformerEncoderLayer(d_model=16, nhead=4, dim_feedforward=32)
    encoder = nn.TransformerEncoder(layer, num_layers=2)       # two copies of the layer
    src = mg.randn(10, 3, 16)                                   # (S, N, d_model), or (N, S, d_model) with batch_first
    mask = nn.Transformer.generate_square_subsequent_mask(10)   # -inf above the diagonal: no look ahead
    out = encoder(src, mask=mask)                               # (10, 3, 16)

An encoder layer (norm_first=False, the default; "post-norm"):

    x = norm1(x + dropout1(self_attn(x, x, x)))
    x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

with norm_first=True ("pre-norm") each block normalises its input instead: x = x + block(norm(x)).
A decoder layer adds, between the two, attention from the target to the encoder's output (memory):
x = norm2(x + dropout2(multihead_attn(x, memory, memory))).

The parameters have PyTorch's names, shapes and initialisation, so a PyTorch state_dict loads:
self_attn.in_proj_weight (3 d_model, d_model) (xavier_uniform_), self_attn.in_proj_bias (3 d_model,)
(zeros), self_attn.out_proj.weight/bias (bias zeros), linear1, linear2, norm1, norm2 (norm3), and in a
stack layers.0..., layers.1..., norm.

The math lives in attention.py (scaled_dot_product_attention, multi_head_attention_forward); these
modules hold the parameters and choose what attends to what.
"""

import copy

from .. import creation, ops
from . import functional, init
from .activation import GELU, ReLU
from .attention import _canonical_mask, _none_or_dtype, multi_head_attention_forward
from .layers import Dropout, LayerNorm, Linear
from .module import Module, ModuleList, Parameter

__all__ = ["MultiheadAttention", "Transformer", "TransformerEncoder", "TransformerDecoder",
           "TransformerEncoderLayer", "TransformerDecoderLayer"]


class NonDynamicallyQuantizableLinear(Linear):
    """Linear under the name PyTorch gives MultiheadAttention.out_proj (a quantisation marker there)."""


class MultiheadAttention(Module):
    """Multi-head attention, as torch.nn.MultiheadAttention (see multi_head_attention_forward for the math).

        attn = nn.MultiheadAttention(embed_dim=16, num_heads=4)
        output, weights = attn(query, key, value)     # query (L, N, 16), key and value (S, N, 16)
                                                      # output (L, N, 16), weights (N, L, S)

    Parameters: in_proj_weight (3 embed_dim, embed_dim), the query, key and value projections stacked
    (or q_proj_weight, k_proj_weight (embed_dim, kdim), v_proj_weight (embed_dim, vdim) when kdim or vdim
    differ from embed_dim); in_proj_bias (3 embed_dim,); out_proj (a Linear); bias_k, bias_v (1, 1,
    embed_dim) with add_bias_kv. Initialised as PyTorch: xavier_uniform_ projections, zero biases,
    xavier_normal_ bias_k and bias_v.

    forward's masks: key_padding_mask (N, S), True (or -inf) at keys to ignore; attn_mask (L, S) or
    (N * num_heads, L, S), True (or -inf) where a query may not attend, a float mask added to the scores.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False, add_zero_attn=False,
                 kdim=None, vdim=None, batch_first=False, device=None, dtype=None):
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and "
                             f"num_heads={num_heads} instead")
        super().__init__()
        make = dict(device=device, dtype=dtype)
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads, self.dropout, self.batch_first = num_heads, dropout, batch_first
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != self.embed_dim:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(creation.empty(3 * embed_dim, embed_dim, **make))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(creation.empty(embed_dim, embed_dim, **make))
            self.k_proj_weight = Parameter(creation.empty(embed_dim, self.kdim, **make))
            self.v_proj_weight = Parameter(creation.empty(embed_dim, self.vdim, **make))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(creation.empty(3 * embed_dim, **make))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **make)
        if add_bias_kv:
            self.bias_k = Parameter(creation.empty(1, 1, embed_dim, **make))
            self.bias_v = Parameter(creation.empty(1, 1, embed_dim, **make))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for weight in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
                average_attn_weights=True, is_causal=False):
        """(output, weights): output (L, N, E), or (N, L, E) with batch_first, or (L, E) unbatched;
        weights (N, L, S) averaged over heads, (N, num_heads, L, S) with average_attn_weights=False,
        None with need_weights=False."""
        is_batched = query.ndim == 3
        key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask),
                                           "attn_mask", query.dtype)
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if self.batch_first and is_batched:  # attention runs sequence first
            query, key, value = (ops.transpose(x, 1, 0) for x in (query, key, value))
        separate = not self._qkv_same_embed_dim
        output, weights = multi_head_attention_forward(
            query, key, value, self.embed_dim, self.num_heads, self.in_proj_weight, self.in_proj_bias,
            self.bias_k, self.bias_v, self.add_zero_attn, self.dropout, self.out_proj.weight, self.out_proj.bias,
            training=self.training, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, use_separate_proj_weight=separate, q_proj_weight=self.q_proj_weight,
            k_proj_weight=self.k_proj_weight, v_proj_weight=self.v_proj_weight,
            average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and is_batched:
            output = ops.transpose(output, 1, 0)
        return output, weights

    def merge_masks(self, attn_mask, key_padding_mask, query):
        """PyTorch's (merged mask, mask type) for batch-first query (N, L, E): type 0 attn_mask (L, L),
        1 key_padding_mask (N, L), 2 both added as (N, num_heads, L, L); (None, None) for neither."""
        mask_type, merged = None, None
        if key_padding_mask is not None:
            mask_type, merged = 1, key_padding_mask
        if attn_mask is not None:
            batch, length, _ = query.shape
            mask_type = 2
            if attn_mask.ndim == 3:
                merged = ops.reshape(attn_mask, batch, -1, length, length)
            else:
                merged = ops.expand(ops.reshape(attn_mask, 1, 1, length, length), batch, self.num_heads, -1, -1)
            if key_padding_mask is not None:
                padding = ops.reshape(key_padding_mask, batch, 1, 1, length)
                merged = merged + ops.expand(padding, -1, self.num_heads, -1, -1)
        return merged, mask_type


# --- the transformer layers ------------------------------------------------------------------

def _get_activation_fn(activation):
    if activation == "relu":
        return functional.relu
    if activation == "gelu":
        return functional.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _get_clones(module, count):
    """count independent copies of module (each starts with module's weights), in a ModuleList."""
    return ModuleList([copy.deepcopy(module) for _ in range(count)])


def _generate_square_subsequent_mask(sz, device=None, dtype=None):
    """(sz, sz): 0 on and below the diagonal, -inf above it (position i may see positions 0..i)."""
    return ops.triu(creation.full((sz, sz), float("-inf"), dtype=dtype, device=device), diagonal=1)


def _get_seq_len(src, batch_first):
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """is_causal if given; else whether mask equals the causal mask of `size` (of mask's own size if None)."""
    make_causal = is_causal is True
    if is_causal is None and mask is not None:
        size = size if size is not None else mask.shape[-2]
        causal = _generate_square_subsequent_mask(size, device=mask.device, dtype=mask.dtype)
        make_causal = tuple(mask.shape) == tuple(causal.shape) and bool((mask == causal).all())
    return make_causal


class TransformerEncoderLayer(Module):
    """Self-attention, then a feedforward block, each added to its input and layer-normalised:

        norm_first=False:  x = norm1(x + _sa_block(x));        x = norm2(x + _ff_block(x))
        norm_first=True:   x = x + _sa_block(norm1(x));        x = x + _ff_block(norm2(x))
        _sa_block(x) = dropout1(self_attn(x, x, x))
        _ff_block(x) = dropout2(linear2(dropout(activation(linear1(x)))))

    src (S, N, d_model), (N, S, d_model) with batch_first, or (S, d_model) unbatched; the same shape out.
    activation: "relu", "gelu" or a callable.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=functional.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        make = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first,
                                            **make)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **make)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **make)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **make)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **make)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        self.activation_relu_or_gelu = _relu_or_gelu(activation)
        self.activation = activation

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask",
                                               _none_or_dtype(src_mask), "src_mask", src.dtype)
        src_mask = _canonical_mask(src_mask, "src_mask", None, "", src.dtype, check_other=False)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal=is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal=is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, need_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout2(x)


def _relu_or_gelu(activation):
    """PyTorch's activation_relu_or_gelu: 1 for relu, 2 for gelu, 0 for anything else."""
    if activation is functional.relu or isinstance(activation, ReLU):
        return 1
    if activation is functional.gelu or isinstance(activation, GELU):
        return 2
    return 0


class TransformerDecoderLayer(Module):
    """Self-attention over the target, attention from the target to memory (the encoder's output), then
    a feedforward block, each added to its input and layer-normalised:

        norm_first=False:  x = norm1(x + _sa_block(x))
                           x = norm2(x + _mha_block(x, memory))
                           x = norm3(x + _ff_block(x))
        norm_first=True:   x = x + _sa_block(norm1(x))
                           x = x + _mha_block(norm2(x), memory)
                           x = x + _ff_block(norm3(x))
        _mha_block(x, memory) = dropout2(multihead_attn(x, memory, memory))

    tgt (T, N, d_model) and memory (S, N, d_model) (batch first with batch_first); out like tgt.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation=functional.relu,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        make = dict(device=device, dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias,
                                            **make)
        self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, batch_first=batch_first,
                                                 bias=bias, **make)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **make)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **make)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **make)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **make)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **make)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _get_activation_fn(activation) if isinstance(activation, str) else activation

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal=False):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask, is_causal=is_causal,
                           need_weights=False)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal=False):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                                is_causal=is_causal, need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        x = self.linear2(self.dropout(self.activation(self.linear1(x))))
        return self.dropout3(x)


class TransformerEncoder(Module):
    """num_layers copies of encoder_layer applied in turn (each a deep copy: they start equal and train
    apart), then `norm` if given.

    enable_nested_tensor and mask_check are accepted and kept for PyTorch's code; minigrad has no nested
    tensors, so every call takes the ordinary path (use_nested_tensor is False).
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True, mask_check=True):
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = False
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        """is_causal None: found out by comparing mask with the causal mask."""
        src_key_padding_mask = _canonical_mask(src_key_padding_mask, "src_key_padding_mask", _none_or_dtype(mask),
                                               "mask", src.dtype)
        mask = _canonical_mask(mask, "mask", None, "", src.dtype, check_other=False)
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _detect_is_causal_mask(mask, is_causal, _get_seq_len(src, batch_first))
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask, is_causal=is_causal, src_key_padding_mask=src_key_padding_mask)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """num_layers copies of decoder_layer applied in turn to the target (each attending to the same
    memory), then `norm` if given."""

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        """tgt_is_causal None: found out by comparing tgt_mask with the causal mask."""
        seq_len = _get_seq_len(tgt, self.layers[0].self_attn.batch_first)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                           memory_is_causal=memory_is_causal)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """An encoder (num_encoder_layers TransformerEncoderLayers and a LayerNorm) and a decoder
    (num_decoder_layers TransformerDecoderLayers and a LayerNorm), as torch.nn.Transformer:

        memory = encoder(src, src_mask, src_key_padding_mask)
        output = decoder(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask, memory_key_padding_mask)

    src (S, N, d_model), tgt (T, N, d_model) (batch first with batch_first); output (T, N, d_model).
    Every parameter with more than one dim is re-initialised with xavier_uniform_, as PyTorch.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6, dim_feedforward=2048,
                 dropout=0.1, activation=functional.relu, custom_encoder=None, custom_decoder=None,
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, device=None, dtype=None):
        super().__init__()
        make = dict(device=device, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            encoder_layer = TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                                    layer_norm_eps, batch_first, norm_first, bias, **make)
            encoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **make)
            self.encoder = TransformerEncoder(encoder_layer, num_encoder_layers, encoder_norm)
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            decoder_layer = TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
                                                    layer_norm_eps, batch_first, norm_first, bias, **make)
            decoder_norm = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **make)
            self.decoder = TransformerDecoder(decoder_layer, num_decoder_layers, decoder_norm)
        self._reset_parameters()
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
                tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        is_batched = src.ndim == 3
        batch_dim = 0 if self.batch_first else 1
        if is_batched and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=tgt_is_causal,
                            memory_is_causal=memory_is_causal)

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """(sz, sz) float mask: 0 on and below the diagonal, -inf above (no position sees a later one)."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self):
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
