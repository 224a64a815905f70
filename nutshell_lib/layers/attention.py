"""Multi-head self-attention (Vaswani et al. 2017): every step of a sequence looks at every step
(or, with ``causal=True``, at those up to itself) and takes a weighted average of their values,
the weights coming from how well its query matches their keys. Several heads do this side by side
in smaller subspaces, so each can attend to something different."""
from __future__ import annotations

import math

import numpy as np

from ..ops.linear import linear, linear_backward
from .activations import Softmax
from .base import Layer, check_input
from .init import check_dtype, check_positive_int, glorot_uniform, make_rng


class MultiHeadAttention(Layer):
    """Self-attention over x (N, T, D) -> (N, T, D), D = embed_dim, with ``num_heads`` heads of
    width d = D / num_heads:

        Q = x W_q + b_q,  K = x W_k + b_k,  V = x W_v + b_v          (N, T, D) each
        head h uses columns h*d .. (h+1)*d of Q, K, V:
        A_h = softmax(Q_h K_h^T / sqrt(d))                          (N, T, T), over the last axis
        y = concat_h(A_h V_h) W_o + b_o

    With ``causal=True`` step i attends only to steps j <= i (scores of later steps are -inf).
    Parameters ``W_q``, ``W_k``, ``W_v``, ``W_o`` (D, D) in Dense's (in, out) layout, Glorot uniform
    (fan_in = fan_out = D), and ``b_q``, ``b_k``, ``b_v``, ``b_o`` (D,), zeros. With
    ``in_proj_weight = [W_q.T; W_k.T; W_v.T]``, ``in_proj_bias = [b_q; b_k; b_v]``,
    ``out_proj.weight = W_o.T`` and ``out_proj.bias = b_o`` it computes what
    ``torch.nn.MultiheadAttention(D, num_heads, batch_first=True)`` does with query = key = value = x.

    After a forward, ``attention_weights`` (N, num_heads, T, T) holds A: row i of head h is how
    much step i drew on each step j (each row sums to 1).
    """

    def __init__(self, embed_dim: int, num_heads: int, *, causal: bool = False, rng=None, dtype=np.float32):
        super().__init__()
        name = f"MultiHeadAttention({embed_dim!r}, {num_heads!r})"
        self.embed_dim = check_positive_int(name, "embed_dim", embed_dim)
        self.num_heads = check_positive_int(name, "num_heads", num_heads)
        if self.embed_dim % self.num_heads:
            raise ValueError(f"{name}: embed_dim must be divisible by num_heads, got {embed_dim} and {num_heads}")
        if not isinstance(causal, bool):
            raise TypeError(f"{name}: causal must be True or False, got {causal!r}")
        self.causal = causal
        self.head_dim = self.embed_dim // self.num_heads
        self.scale = 1.0 / math.sqrt(self.head_dim)  # a Python float, so float32 scores stay float32
        self.dtype = check_dtype(name, dtype)
        rng = make_rng(rng)
        D = self.embed_dim
        for role in "qkvo":
            self._add_param(f"W_{role}", glorot_uniform(rng, (D, D), D, D, self.dtype))
        for role in "qkvo":
            self._add_param(f"b_{role}", np.zeros(D, self.dtype))
        self._softmax = Softmax()
        self.attention_weights = None

    def __repr__(self) -> str:
        causal = ", causal=True" if self.causal else ""
        return f"MultiHeadAttention({self.embed_dim}, {self.num_heads}{causal})"

    def _input_projection(self):
        """W_q, W_k, W_v side by side (D, 3D) and their biases (3D,): one product projects all three."""
        p = self.params
        return (np.concatenate([p["W_q"], p["W_k"], p["W_v"]], axis=1),
                np.concatenate([p["b_q"], p["b_k"], p["b_v"]]))

    def _split_heads(self, z: np.ndarray, N: int, T: int) -> np.ndarray:
        """(N * T, D) -> (N, heads, T, d)."""
        return z.reshape(N, T, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def _merge_heads(self, z: np.ndarray) -> np.ndarray:
        """(N, heads, T, d) -> (N * T, D), the heads side by side on each row."""
        N, _, T, _ = z.shape
        return z.transpose(0, 2, 1, 3).reshape(N * T, self.embed_dim)

    def forward(self, x, training=True):
        """x (N, T, D) -> y (N, T, D); keeps ``attention_weights`` (N, heads, T, T)."""
        x = check_input(self, x, "(N, T, embed_dim)", embed_dim=self.embed_dim).astype(self.dtype, copy=False)
        N, T, D = x.shape
        rows = x.reshape(N * T, D)
        W_qkv, b_qkv = self._input_projection()
        qkv = linear(rows, W_qkv, b_qkv)  # (N * T, 3D)
        q, k, v = (self._split_heads(qkv[:, i * D:(i + 1) * D], N, T) for i in range(3))
        scores = (q @ k.transpose(0, 1, 3, 2)) * self.scale  # (N, heads, T, T)
        if self.causal:
            scores[..., np.triu(np.ones((T, T), bool), k=1)] = -np.inf  # step j > i is in i's future
        weights = self._softmax.forward(scores)  # subtracts each row's max: no overflow
        context = self._merge_heads(weights @ v)
        self.rows, self.q, self.k, self.v, self.context = rows, q, k, v, context
        self.attention_weights = weights
        return linear(context, self.params["W_o"], self.params["b_o"]).reshape(N, T, D)

    def backward(self, dy):
        """dy (N, T, D) -> dx (N, T, D); sets the grads of all eight parameters."""
        rows, q, k, v, context, weights = self._saved("rows", "q", "k", "v", "context", "attention_weights")
        N, _, T, _ = q.shape
        D = self.embed_dim
        dy = self._check_dy(dy, (N, T, D)).astype(self.dtype, copy=False)
        d_context, self.grads["W_o"], self.grads["b_o"] = linear_backward(
            dy.reshape(N * T, D), context, self.params["W_o"])
        d_heads = self._split_heads(d_context, N, T)  # (N, heads, T, d)
        d_weights = d_heads @ v.transpose(0, 1, 3, 2)
        dv = weights.transpose(0, 1, 3, 2) @ d_heads
        d_scores = self._softmax.backward(d_weights) * self.scale  # masked entries get 0
        dq = d_scores @ k
        dk = d_scores.transpose(0, 1, 3, 2) @ q
        d_qkv = np.concatenate([self._merge_heads(dq), self._merge_heads(dk), self._merge_heads(dv)], axis=1)
        dx, dW_qkv, db_qkv = linear_backward(d_qkv, rows, self._input_projection()[0])
        for i, role in enumerate("qkv"):
            self.grads[f"W_{role}"] = dW_qkv[:, i * D:(i + 1) * D]
            self.grads[f"b_{role}"] = db_qkv[i * D:(i + 1) * D]
        return dx.reshape(N, T, D)
