"""Vanilla (Elman) recurrent layer with tanh, trained by backpropagation through time."""
from __future__ import annotations

import numpy as np

from .recurrent import Recurrent


class RNN(Recurrent):
    """h_t = tanh(x_t W_ih^T + h_{t-1} W_hh^T + b), the same equations as PyTorch's nn.RNN.

    Parameters W_ih (H, D), W_hh (H, H), b (H,). ``forward(x, h0=None)`` takes x (N, T, D) and
    returns every hidden state (N, T, H); after ``backward``, ``dh0`` holds dL/dh0 (N, H).
    """

    gates = 1

    def forward(self, x, training=True, *, h0=None):
        """x (N, T, D), optional h0 (N, H; zeros by default) -> hs (N, T, H)."""
        x = self._check_sequence(x)
        N, T, _ = x.shape
        h = self._initial_state("h0", h0, N)
        W_hh = self.params["W_hh"]
        # Inputs do not depend on the recurrence: project all time steps in one product.
        pre = (x @ self.params["W_ih"].T + self.params["b"]).transpose(1, 0, 2)
        hs = np.empty((T + 1, N, self.hidden_size), self.dtype)  # hs[0] = h0, hs[t + 1] = h_t
        hs[0] = h
        for t in range(T):
            hs[t + 1] = np.tanh(pre[t] + hs[t] @ W_hh.T)
        self.x, self.hs = x, hs
        return hs[1:].transpose(1, 0, 2)

    def backward(self, dy):
        """dy (N, T, H) -> dx (N, T, D); sets grads W_ih, W_hh, b and ``dh0`` (N, H)."""
        x, hs = self._saved("x", "hs")
        dy = self._check_dy(dy, x.shape[:2] + (self.hidden_size,))
        T = x.shape[1]
        W_hh = self.params["W_hh"]
        da = np.empty_like(hs[1:])
        dh_next = np.zeros_like(hs[0])
        for t in reversed(range(T)):
            da[t] = (dy[:, t] + dh_next) * (1.0 - hs[t + 1] ** 2)
            dh_next = da[t] @ W_hh
        self.dh0 = dh_next
        return self._input_gradients(da, x, hs[:-1])
