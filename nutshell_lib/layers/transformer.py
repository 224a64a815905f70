"""The transformer block (Vaswani et al. 2017), in the pre-norm arrangement GPT-2 and most later
models use: normalise, transform, add back, once with attention (steps exchange information) and
once with a small MLP (each step on its own)."""
from __future__ import annotations

import numpy as np

from .activations import GELU
from .attention import MultiHeadAttention
from .dense import Dense
from ..ops.validate import named
from .init import check_positive_int, make_rng
from .layernorm import LayerNorm
from .residual import Residual
from .sequential import Sequential


class TransformerBlock(Sequential):
    """x (N, T, D) -> (N, T, D), D = embed_dim:

        x = x + MultiHeadAttention(LayerNorm(x))          child "attention"
        x = x + Dense(GELU(Dense(LayerNorm(x))))          child "mlp", hidden width ``hidden``

    Arrays are named like "attention.body.1.W_q" (the attention's query weights),
    "mlp.body.0.gamma" (the MLP's layer norm) and "mlp.body.1.W" (D, hidden). ``causal=True`` makes
    the attention causal. ``attention_weights`` (N, heads, T, T) are those of the last forward.
    ``rng`` seeds all the weights.
    """

    def __init__(self, embed_dim: int, num_heads: int, hidden: int, *, causal: bool = False, rng=None,
                 dtype=np.float32):
        name = f"TransformerBlock({embed_dim!r}, {num_heads!r}, hidden={hidden!r})"
        D = check_positive_int(name, "embed_dim", embed_dim)
        hidden = check_positive_int(name, "hidden", hidden)
        rng = make_rng(rng)
        with named(name):
            attention = MultiHeadAttention(D, num_heads, causal=causal, rng=rng, dtype=dtype)
        mlp = [LayerNorm(D, dtype=dtype), Dense(D, hidden, rng=rng, dtype=dtype), GELU(),
               Dense(hidden, D, rng=rng, dtype=dtype)]
        super().__init__({
            "attention": Residual(Sequential([LayerNorm(D, dtype=dtype), attention])),
            "mlp": Residual(Sequential(mlp)),
        })
        self.embed_dim, self.num_heads, self.hidden, self.causal = D, attention.num_heads, hidden, causal

    def __repr__(self) -> str:
        causal = ", causal=True" if self.causal else ""
        return f"TransformerBlock({self.embed_dim}, {self.num_heads}, hidden={self.hidden}{causal})"

    @property
    def attention_weights(self):
        """The attention's weights of the last forward, (N, heads, T, T)."""
        return self.children["attention"].body[1].attention_weights
