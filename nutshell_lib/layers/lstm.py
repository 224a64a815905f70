"""Long short-term memory layer (Hochreiter & Schmidhuber 1997), with PyTorch's parameter layout
so weights move between this layer and ``torch.nn.LSTM``."""
from __future__ import annotations

import numpy as np

from ..ops.elementwise import sigmoid
from .recurrent import Recurrent


class LSTM(Recurrent):
    """LSTM over x (N, T, D) -> all hidden states (N, T, H), with gates i, f, g, o in that order:

        a_t = x_t W_ih^T + h_{t-1} W_hh^T + b          (N, 4H), split into four (N, H) blocks
        i = sigmoid(a_i)  f = sigmoid(a_f)  g = tanh(a_g)  o = sigmoid(a_o)
        c_t = f * c_{t-1} + i * g                     h_t = o * tanh(c_t)

    Parameters W_ih (4H, D), W_hh (4H, H), b (4H,) (PyTorch's b_ih + b_hh). The forget gate's
    bias starts at ``forget_bias`` (1.0) rather than 0, so early in training the cell keeps its
    memory and gradients reach far back (Jozefowicz et al. 2015).

    ``forward(x, h0=None, c0=None)``; after ``backward``, ``dh0`` and ``dc0`` (N, H) hold the
    initial states' gradients. ``final_state`` is (h_T, c_T) of the last forward.
    """

    gates = 4

    def __init__(self, input_size: int, hidden_size: int, *, forget_bias: float = 1.0, rng=None, dtype=np.float32):
        super().__init__(input_size, hidden_size, rng=rng, dtype=dtype)
        H = self.hidden_size
        self.params["b"][H:2 * H] = forget_bias

    @property
    def final_state(self):
        hs, cs = self._saved("hs", "cs")
        return hs[-1], cs[-1]

    def forward(self, x, training=True, *, h0=None, c0=None):
        """x (N, T, D), optional h0 and c0 (N, H; zeros by default) -> hs (N, T, H)."""
        x = self._check_sequence(x)
        N, T, _ = x.shape
        H = self.hidden_size
        W_hh_T = self.params["W_hh"].T
        pre = (x @ self.params["W_ih"].T + self.params["b"]).transpose(1, 0, 2)
        hs = np.empty((T + 1, N, H), self.dtype)  # index 0 holds the initial state
        cs = np.empty((T + 1, N, H), self.dtype)
        gates = np.empty((T, N, 4 * H), self.dtype)  # i, f, g, o after their nonlinearities
        tanh_cs = np.empty((T, N, H), self.dtype)
        hs[0] = self._initial_state("h0", h0, N)
        cs[0] = self._initial_state("c0", c0, N)
        for t in range(T):
            a = pre[t] + hs[t] @ W_hh_T
            gate = gates[t]
            gate[:, :2 * H] = sigmoid(a[:, :2 * H])
            gate[:, 2 * H:3 * H] = np.tanh(a[:, 2 * H:3 * H])
            gate[:, 3 * H:] = sigmoid(a[:, 3 * H:])
            i, f, g, o = gate[:, :H], gate[:, H:2 * H], gate[:, 2 * H:3 * H], gate[:, 3 * H:]
            cs[t + 1] = f * cs[t] + i * g
            tanh_cs[t] = np.tanh(cs[t + 1])
            hs[t + 1] = o * tanh_cs[t]
        self.x, self.hs, self.cs, self.gates, self.tanh_cs = x, hs, cs, gates, tanh_cs
        return hs[1:].transpose(1, 0, 2)

    def backward(self, dy):
        """dy (N, T, H) -> dx (N, T, D); sets grads W_ih, W_hh, b and ``dh0``, ``dc0`` (N, H)."""
        x, hs, cs, gates, tanh_cs = self._saved("x", "hs", "cs", "gates", "tanh_cs")
        dy = self._check_dy(dy, x.shape[:2] + (self.hidden_size,))
        T = x.shape[1]
        H = self.hidden_size
        W_hh = self.params["W_hh"]
        da = np.empty_like(gates)
        dh = np.zeros_like(hs[0])
        dc = np.zeros_like(cs[0])
        for t in reversed(range(T)):
            i, f, g, o = (gates[t, :, k * H:(k + 1) * H] for k in range(4))
            dh = dy[:, t] + dh
            dc = dc + dh * o * (1.0 - tanh_cs[t] ** 2)
            da[t, :, :H] = dc * g * i * (1.0 - i)
            da[t, :, H:2 * H] = dc * cs[t] * f * (1.0 - f)
            da[t, :, 2 * H:3 * H] = dc * i * (1.0 - g * g)
            da[t, :, 3 * H:] = dh * tanh_cs[t] * o * (1.0 - o)
            dc = dc * f
            dh = da[t] @ W_hh
        self.dh0, self.dc0 = dh, dc
        return self._input_gradients(da, x, hs[:-1])
