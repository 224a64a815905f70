"""Gated recurrent unit (Cho et al. 2014): an LSTM without a separate cell, two gates instead of
three, with PyTorch's parameter layout so weights move between this layer and ``torch.nn.GRU``."""
from __future__ import annotations

import numpy as np

from ..ops.elementwise import sigmoid
from .recurrent import Recurrent


class GRU(Recurrent):
    """GRU over x (N, T, D) -> all hidden states (N, T, H), gates r, z, n in that order:

        r = sigmoid(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)       reset gate
        z = sigmoid(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)       update gate
        n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))    candidate
        h_t = (1 - z) * n + z * h_{t-1}

    Parameters W_ih (3H, D) = [W_ir; W_iz; W_in], W_hh (3H, H), b_ih and b_hh (3H,), the same
    layout and names as PyTorch's weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0. The two
    biases stay separate because r multiplies b_hn but not b_in.

    ``forward(x, h0=None)``; after ``backward``, ``dh0`` (N, H) holds dL/dh0.
    """

    gates = 3
    separate_biases = True

    def forward(self, x, training=True, *, h0=None):
        """x (N, T, D), optional h0 (N, H; zeros by default) -> hs (N, T, H)."""
        x = self._check_sequence(x)
        N, T, _ = x.shape
        H = self.hidden_size
        W_hh_T, b_hh = self.params["W_hh"].T, self.params["b_hh"]
        # Inputs do not depend on the recurrence: project all time steps in one product.
        input_terms = (x @ self.params["W_ih"].T + self.params["b_ih"]).transpose(1, 0, 2)  # (T, N, 3H)
        hs = np.empty((T + 1, N, H), self.dtype)  # hs[0] = h0, hs[t + 1] = h_t
        gates = np.empty((T, N, 3 * H), self.dtype)  # r, z, n after their nonlinearities
        candidate_hidden = np.empty((T, N, H), self.dtype)  # h_{t-1} W_hn^T + b_hn, which r scales
        hs[0] = self._initial_state("h0", h0, N)
        for t in range(T):
            hidden_terms = hs[t] @ W_hh_T + b_hh
            gates[t, :, :2 * H] = sigmoid(input_terms[t, :, :2 * H] + hidden_terms[:, :2 * H])
            r, z = gates[t, :, :H], gates[t, :, H:2 * H]
            candidate_hidden[t] = hidden_terms[:, 2 * H:]
            n = gates[t, :, 2 * H:] = np.tanh(input_terms[t, :, 2 * H:] + r * candidate_hidden[t])
            hs[t + 1] = (1 - z) * n + z * hs[t]
        self.x, self.hs, self.gates, self.candidate_hidden = x, hs, gates, candidate_hidden
        return hs[1:].transpose(1, 0, 2)

    def backward(self, dy):
        """dy (N, T, H) -> dx (N, T, D); sets grads W_ih, W_hh, b_ih, b_hh and ``dh0`` (N, H)."""
        x, hs, gates, candidate_hidden = self._saved("x", "hs", "gates", "candidate_hidden")
        dy = self._check_dy(dy, x.shape[:2] + (self.hidden_size,))
        T = x.shape[1]
        H = self.hidden_size
        W_hh = self.params["W_hh"]
        da_input = np.empty_like(gates)  # at x_t W_ih^T + b_ih
        da_hidden = np.empty_like(gates)  # at h_{t-1} W_hh^T + b_hh: the n block is scaled by r
        dh = np.zeros_like(hs[0])
        for t in reversed(range(T)):
            r, z, n = gates[t, :, :H], gates[t, :, H:2 * H], gates[t, :, 2 * H:]
            dh = dy[:, t] + dh
            da_n = dh * (1 - z) * (1 - n * n)
            da_input[t, :, :H] = da_n * candidate_hidden[t] * r * (1 - r)
            da_input[t, :, H:2 * H] = dh * (hs[t] - n) * z * (1 - z)
            da_input[t, :, 2 * H:] = da_n
            da_hidden[t, :, :2 * H] = da_input[t, :, :2 * H]
            da_hidden[t, :, 2 * H:] = da_n * r
            dh = dh * z + da_hidden[t] @ W_hh
        self.dh0 = dh
        return self._input_gradients(da_input, x, hs[:-1], da_hidden)
