"""What the recurrent layers share: parameter layout, initialization and input checks."""
from __future__ import annotations

import numpy as np

from .base import Layer
from .init import check_dtype, check_positive_int, glorot_uniform, make_rng


class Recurrent(Layer):
    """A recurrent layer over batch-first sequences x (N, T, input_size) -> (N, T, hidden_size).

    Parameters ``W_ih`` (gates * H, D), ``W_hh`` (gates * H, H) and ``b`` (gates * H,), one block
    of H rows per gate, as in PyTorch (whose b_ih + b_hh is our b). Each gate's block is Glorot
    uniform: fan_in D and fan_out H for W_ih, H and H for W_hh; biases start at zero. A layer with
    ``separate_biases`` (the GRU) has ``b_ih`` and ``b_hh`` (gates * H,) instead of ``b``, because
    its equations do not depend on their sum alone.
    """

    gates = 1
    separate_biases = False

    def __init__(self, input_size: int, hidden_size: int, *, rng=None, dtype=np.float32):
        super().__init__()
        name = f"{type(self).__name__}({input_size!r} -> {hidden_size!r})"
        self.input_size = check_positive_int(name, "input_size", input_size)
        self.hidden_size = check_positive_int(name, "hidden_size", hidden_size)
        self.dtype = check_dtype(name, dtype)
        D, H, G = self.input_size, self.hidden_size, self.gates
        rng = make_rng(rng)
        self._add_param("W_ih", glorot_uniform(rng, (G * H, D), D, H, self.dtype))
        self._add_param("W_hh", glorot_uniform(rng, (G * H, H), H, H, self.dtype))
        for bias in ("b_ih", "b_hh") if self.separate_biases else ("b",):
            self._add_param(bias, np.zeros(G * H, self.dtype))
        self.x = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.input_size} -> {self.hidden_size})"

    def _check_sequence(self, x) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype.kind not in "biuf":
            raise TypeError(f"{self!r}: expected a real-valued input array, got dtype {x.dtype}")
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"{self!r}: expected input (N, T, {self.input_size}), got {x.shape}")
        return x.astype(self.dtype, copy=False)

    def _initial_state(self, name: str, state, batch: int) -> np.ndarray:
        """The given initial state, checked, or zeros (batch, hidden_size)."""
        if state is None:
            return np.zeros((batch, self.hidden_size), self.dtype)
        state = np.asarray(state, dtype=self.dtype)
        if state.shape != (batch, self.hidden_size):
            raise ValueError(f"{self!r}: expected {name} (N, H) = ({batch}, {self.hidden_size}), got {state.shape}")
        return state

    def _input_gradients(self, da: np.ndarray, x: np.ndarray, h_previous: np.ndarray,
                         da_hidden: np.ndarray | None = None) -> np.ndarray:
        """Set the parameter grads with one matrix product each and return dx (N, T, D).

        da (T, N, G*H): the gradient at every step's input term x_t W_ih^T + b (or + b_ih);
        da_hidden: the same at the hidden term h_{t-1} W_hh^T (+ b_hh), when it differs from da
        (the GRU's candidate gate); h_previous (T, N, H): h_{t-1} for each step t.
        """
        T, N, GH = da.shape
        da_flat = da.reshape(T * N, GH)
        da_hidden_flat = da_flat if da_hidden is None else da_hidden.reshape(T * N, GH)
        x_time_major = x.transpose(1, 0, 2).reshape(T * N, self.input_size)
        self.grads["W_ih"] = da_flat.T @ x_time_major
        self.grads["W_hh"] = da_hidden_flat.T @ h_previous.reshape(T * N, self.hidden_size)
        if self.separate_biases:
            self.grads["b_ih"] = da_flat.sum(axis=0)
            self.grads["b_hh"] = da_hidden_flat.sum(axis=0)
        else:
            self.grads["b"] = da_flat.sum(axis=0)
        return (da_flat @ self.params["W_ih"]).reshape(T, N, self.input_size).transpose(1, 0, 2)
