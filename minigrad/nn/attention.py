"""Attention as functions, with torch.nn.functional's names and arguments:
scaled_dot_product_attention and multi_head_attention_forward (what nn.MultiheadAttention calls).

    out = F.scaled_dot_product_attention(q, k, v)       # q (N, ..., L, E), k (N, ..., S, E), v (N, ..., S, Ev)
                                                         # out (N, ..., L, Ev)

    Attention(Q, K, V) = softmax(Q K^T / sqrt(E) + B) V

B is the mask's bias: 0 where a query may look at a key, -inf where it may not. Everything is made of
minigrad ops (matmul, softmax, where, dropout, linear), so gradients, and gradients of gradients, come
from the ops' own backward.

The two functions read masks differently, as PyTorch's do:
  scaled_dot_product_attention: a bool mask is True where a query MAY attend.
  multi_head_attention_forward: a bool attn_mask or key_padding_mask is True where it may NOT.
A float mask is added to the scores in both.
"""

import math
import warnings

import numpy as np

from .. import creation, ops
from ..tensor import Tensor

__all__ = ["scaled_dot_product_attention", "multi_head_attention_forward"]

NEG_INF = float("-inf")


def _safe_softmax(scores):
    """softmax over the last dim, with 0 (not NaN) for a row whose every score is -inf (a query that
    may attend to nothing), as PyTorch's scaled_dot_product_attention.

    Such rows are set to 0 before the softmax too, so that no NaN reaches the backward pass."""
    blocked = (scores == NEG_INF).all(dim=-1, keepdim=True)
    if not bool(blocked.any()):
        return ops.softmax(scores, dim=-1)
    weights = ops.softmax(ops.where(blocked, 0.0, scores), dim=-1)
    return ops.where(blocked, 0.0, weights)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query key^T * scale + bias) value, as torch.nn.functional.scaled_dot_product_attention.

        query (N, ..., L, E), key (N, ..., S, E), value (N, ..., S, Ev) -> (N, ..., L, Ev)
        scale        1/sqrt(E) unless given
        attn_mask    broadcasts to (N, ..., L, S): bool (True: may attend) or float (added to the scores)
        is_causal    query i attends to keys 0..i only (the upper triangle is masked); no attn_mask then
        dropout_p    dropout on the attention weights (applied whenever dropout_p > 0, as PyTorch)
        enable_gqa   grouped-query attention: key and value heads (dim -3) are repeated to query's count

    A query that may attend to no key gets zeros (not NaN), as PyTorch.
    """
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"scaled_dot_product_attention: query, key and value need at least 2 dims, got "
                           f"shapes {query.shape}, {key.shape} and {value.shape}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: query {query.shape}, key {key.shape} and value "
                           f"{value.shape} do not fit (query and key need the same last dim, key and value the "
                           f"same sequence length)")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        groups = query.shape[-3] // key.shape[-3]
        key = ops.repeat_interleave(key, groups, dim=-3)
        value = ops.repeat_interleave(value, groups, dim=-3)
    target_length, source_length = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = ops.matmul(query, ops.transpose(key, -2, -1)) * scale
    if is_causal:
        rows = ops.unsqueeze(creation.arange(target_length, device=query.device), 1)
        attn_mask = rows >= creation.arange(source_length, device=query.device)     # the lower triangle
    if attn_mask is not None:
        if attn_mask.dtype == np.bool_:
            scores = ops.masked_fill(scores, ops.logical_not(attn_mask), NEG_INF)
        else:
            scores = scores + attn_mask
    weights = _safe_softmax(scores)
    if dropout_p > 0.0:
        weights = ops.dropout(weights, dropout_p, True)
    return ops.matmul(weights, value)


# --- multi-head attention --------------------------------------------------------------------

def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True: do not attend) as a float one (-inf there, 0 elsewhere) of target_type;
    a float mask as it is. Warns, as PyTorch, when the two masks of one call differ in type."""
    if mask is None:
        return None
    is_float = mask.dtype.kind == "f"
    if mask.dtype != np.bool_ and not is_float:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype != other_type:
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for "
                      f"both instead.", stacklevel=3)
    if is_float:
        return mask
    zeros = creation.zeros(mask.shape, dtype=target_type, device=mask.device)
    return ops.masked_fill(zeros, mask, NEG_INF)


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """True for batched (3-D) input, False for unbatched (2-D); PyTorch's AssertionError otherwise."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError(f"For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError(f"For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError(f"For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError(f"For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D "
                                 f"but found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError(f"For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.ndim}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {tuple(attn_mask.shape)}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query "
                         f"tensor")


def _in_projection(query, key, value, w_q, w_k, w_v, b_q, b_k, b_v):
    """q = query W_q^T + b_q, k = key W_k^T + b_k, v = value W_v^T + b_v."""
    embed_dim, key_dim, value_dim = query.shape[-1], key.shape[-1], value.shape[-1]
    for name, weight, expected in (("query", w_q, (embed_dim, embed_dim)), ("key", w_k, (embed_dim, key_dim)),
                                   ("value", w_v, (embed_dim, value_dim))):
        if tuple(weight.shape) != expected:
            raise AssertionError(f"expecting {name} weights shape of {expected}, but got {tuple(weight.shape)}")
    return ops.linear(query, w_q, b_q), ops.linear(key, w_k, b_k), ops.linear(value, w_v, b_v)


def _thirds(tensor, embed_dim):
    """The query, key and value blocks of a packed (3E, ...) weight or (3E,) bias (None stays None)."""
    if tensor is None:
        return None, None, None
    return tensor[:embed_dim], tensor[embed_dim:2 * embed_dim], tensor[2 * embed_dim:]


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention, as torch.nn.functional.multi_head_attention_forward:

        q, k, v = query W_q^T + b_q, key W_k^T + b_k, value W_v^T + b_v      (W_q, W_k, W_v: in_proj_weight's
                                                                            three blocks of embed_dim rows)
        each head h takes its own head_dim = embed_dim / num_heads columns of q, k and v:
        head_h = softmax(q_h k_h^T / sqrt(head_dim) + mask) v_h               (L, head_dim)
        output = concat(head_1, ..., head_H) W_out^T + b_out                  (L, N, embed_dim)

    Shapes (sequence first): query (L, N, E), key (S, N, kdim), value (S, N, vdim), or unbatched
    (L, E), (S, kdim), (S, vdim). attn_mask (L, S) or (N * num_heads, L, S); key_padding_mask (N, S);
    a bool mask is True where a query may NOT attend, a float mask is added to the scores.

    Returns (output, weights): weights (N, L, S) averaged over the heads, or (N, num_heads, L, S) with
    average_attn_weights=False; None with need_weights=False. is_causal is a hint that attn_mask is the
    causal mask (it must still be given).
    """
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:  # a batch of one, dropped again at the end
        query, key, value = ops.unsqueeze(query, 1), ops.unsqueeze(key, 1), ops.unsqueeze(value, 1)
        if key_padding_mask is not None:
            key_padding_mask = ops.unsqueeze(key_padding_mask, 0)
    target_length, batch, embed_dim = query.shape
    source_length = key.shape[0]

    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask",
                                       query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # scaled_dot_product_attention makes the causal mask itself
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False  # merged with the padding mask, the mask is no longer causal

    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not match value's "
                                 f"{tuple(value.shape[:2])}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")

    # in-projection
    b_q, b_k, b_v = _thirds(in_proj_bias, embed_dim)
    if not use_separate_proj_weight:
        if in_proj_weight is None:
            raise AssertionError("use_separate_proj_weight is False but in_proj_weight is None")
        w_q, w_k, w_v = _thirds(in_proj_weight, embed_dim)
    else:
        for name, weight in (("q", q_proj_weight), ("k", k_proj_weight), ("v", v_proj_weight)):
            if weight is None:
                raise AssertionError(f"use_separate_proj_weight is True but {name}_proj_weight is None")
        w_q, w_k, w_v = q_proj_weight, k_proj_weight, v_proj_weight
    q, k, v = _in_projection(query, key, value, w_q, w_k, w_v, b_q, b_k, b_v)

    # attn_mask as (1 or N * num_heads, L, S)
    if attn_mask is not None:
        if attn_mask.ndim == 2:
            if tuple(attn_mask.shape) != (target_length, source_length):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{(target_length, source_length)}.")
            attn_mask = ops.unsqueeze(attn_mask, 0)
        elif attn_mask.ndim == 3:
            expected = (batch * num_heads, target_length, source_length)
            if tuple(attn_mask.shape) != expected:
                raise RuntimeError(f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                                   f"{expected}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")

    # add_bias_kv: one learned key and value appended to every sequence
    if bias_k is not None and bias_v is not None:
        if static_k is not None:
            raise AssertionError("bias cannot be added to static key.")
        if static_v is not None:
            raise AssertionError("bias cannot be added to static value.")
        k = ops.cat([k, ops.repeat(bias_k, 1, batch, 1)])
        v = ops.cat([v, ops.repeat(bias_v, 1, batch, 1)])
        attn_mask = None if attn_mask is None else ops.pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else ops.pad(key_padding_mask, (0, 1))
    elif bias_k is not None:
        raise AssertionError("bias_k is set but bias_v is None")
    elif bias_v is not None:
        raise AssertionError("bias_v is set but bias_k is None")

    # heads: (L, N, E) -> (N * num_heads, L, head_dim), head h of sample n at row n * num_heads + h
    q = ops.transpose(ops.reshape(q, target_length, batch * num_heads, head_dim), 0, 1)
    k = _heads(k, static_k, "static_k", batch * num_heads, head_dim)
    v = _heads(v, static_v, "static_v", batch * num_heads, head_dim)

    # add_zero_attn: a key and value of zeros appended to every sequence
    if add_zero_attn:
        zeros = creation.zeros(batch * num_heads, 1, head_dim, dtype=k.dtype, device=k.device)
        k, v = ops.cat([k, zeros], dim=1), ops.cat([v, zeros.to(v.dtype)], dim=1)
        attn_mask = None if attn_mask is None else ops.pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else ops.pad(key_padding_mask, (0, 1))
    source_length = k.shape[1]

    # merge the padding mask into attn_mask
    if key_padding_mask is not None:
        if key_padding_mask.shape[0] != batch:
            raise AssertionError(f"Expected key_padded_mask.shape[0] to be {batch}, but got "
                                 f"{key_padding_mask.shape[0]}")
        if key_padding_mask.shape[1] != source_length:
            raise AssertionError(f"Expected key_padded_mask.shape[1] to be {source_length}, but got "
                                 f"{key_padding_mask.shape[1]}")
        per_head = ops.expand(ops.reshape(key_padding_mask, batch, 1, 1, source_length), -1, num_heads, -1, -1)
        per_head = ops.reshape(per_head, batch * num_heads, 1, source_length)
        attn_mask = per_head if attn_mask is None else attn_mask + per_head

    if not training:
        dropout_p = 0.0

    if need_weights:
        # the weights themselves are returned, so they are formed here (a fully masked row gives NaN, as PyTorch)
        q_scaled = q * math.sqrt(1.0 / float(head_dim))
        scores = ops.matmul(q_scaled, ops.transpose(k, -2, -1))
        if attn_mask is not None:
            scores = attn_mask + scores
        weights = ops.softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = ops.dropout(weights, dropout_p, True)
        output = ops.matmul(weights, v)                                            # (N * H, L, head_dim)
        output = ops.reshape(ops.transpose(output, 0, 1), target_length * batch, embed_dim)
        output = ops.linear(output, out_proj_weight, out_proj_bias)
        output = ops.reshape(output, target_length, batch, output.shape[1])
        weights = ops.reshape(weights, batch, num_heads, target_length, source_length)
        if average_attn_weights:
            weights = ops.mean(weights, dim=1)
        if not is_batched:
            output, weights = ops.squeeze(output, 1), ops.squeeze(weights, 0)
        return output, weights

    if attn_mask is not None:
        if attn_mask.shape[0] == 1 and attn_mask.ndim == 3:
            attn_mask = ops.unsqueeze(attn_mask, 0)
        else:
            attn_mask = ops.reshape(attn_mask, batch, num_heads, -1, source_length)
    q = ops.reshape(q, batch, num_heads, target_length, head_dim)
    k = ops.reshape(k, batch, num_heads, source_length, head_dim)
    v = ops.reshape(v, batch, num_heads, source_length, head_dim)
    output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)   # (N, H, L, head_dim)
    output = ops.reshape(ops.permute(output, 2, 0, 1, 3), batch * target_length, embed_dim)
    output = ops.linear(output, out_proj_weight, out_proj_bias)
    output = ops.reshape(output, target_length, batch, output.shape[1])
    if not is_batched:
        output = ops.squeeze(output, 1)
    return output, None


def _heads(projected, static, name, rows, head_dim):
    """(S, N, E) -> (N * num_heads, S, head_dim), or the given static keys or values of that shape."""
    if static is None:
        return ops.transpose(ops.reshape(projected, projected.shape[0], rows, head_dim), 0, 1)
    if static.shape[0] != rows:
        raise AssertionError(f"expecting {name}.size(0) of {rows}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting {name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static
