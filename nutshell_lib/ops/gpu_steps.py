"""The steps of a training step that are not products, for arrays on the GPU: the element-wise
activations, softmax cross-entropy and the SGD and Adam updates. The layers, the loss and the
optimizers call these when their arrays are device arrays (see ``device``'s rule) and keep their
NumPy code for NumPy arrays.

Every function takes and returns Numba device arrays (the callers have validated them) and copies
nothing to the host except the loss, one number.
"""
from __future__ import annotations

import math


def _flat(array):
    """A (size,) view of a C-contiguous device array."""
    return array.reshape(array.size)


def _planes(array):
    """A (N * C, H, W) view of a C-contiguous (N, C, H, W) device array."""
    batch, channels, height, width = array.shape
    return array.reshape(batch * channels, height, width)


def activation(function, x, parameter):
    """y = f(x) for the element-wise ``function`` (an ``elementwise.Elementwise``, e.g. ``SIGMOID``)
    with its ``parameter`` (LeakyReLU's slope, else unused); x and y of any shape."""
    from numba import cuda

    from ..kernels import cuda_activations
    from ..kernels.cuda_launch import launch

    forward, _ = cuda_activations.kernels(function.formulas)
    y = cuda.device_array(x.shape, x.dtype)
    launch(forward, x.size, _flat(x), _flat(y), parameter)
    return y


def activation_backward(function, dy, x, y, parameter):
    """dx = dy * f'(x) for ``activation``'s function, from its input x and output y; all of x's shape."""
    from numba import cuda

    from ..kernels import cuda_activations
    from ..kernels.cuda_launch import launch

    _, backward = cuda_activations.kernels(function.formulas)
    dx = cuda.device_array(x.shape, x.dtype)
    launch(backward, x.size, _flat(dy), _flat(x), _flat(y), _flat(dx), parameter)
    return dx


def pad(x, padding, fill):
    """x (N, C, H, W) with ``padding`` (pad_h, pad_w) rows and columns of ``fill`` on each side:
    (N, C, H + 2 pad_h, W + 2 pad_w), as ``np.pad(x, ..., constant_values=fill)``."""
    from numba import cuda

    from ..kernels import cuda_pool
    from ..kernels.cuda_launch import launch

    (pad_h, pad_w), (batch, channels, height, width) = padding, x.shape
    padded = cuda.device_array((batch, channels, height + 2 * pad_h, width + 2 * pad_w), x.dtype)
    launch(cuda_pool.pad_planes, padded.size, _planes(x), _planes(padded), pad_h, pad_w, fill)
    return padded


def crop(padded, padding):
    """The inverse of ``pad``: padded (N, C, H + 2 pad_h, W + 2 pad_w) -> (N, C, H, W), contiguous."""
    from numba import cuda

    from ..kernels import cuda_pool
    from ..kernels.cuda_launch import launch

    (pad_h, pad_w), (batch, channels, height, width) = padding, padded.shape
    cropped = cuda.device_array((batch, channels, height - 2 * pad_h, width - 2 * pad_w), padded.dtype)
    launch(cuda_pool.crop_planes, cropped.size, _planes(padded), _planes(cropped), pad_h, pad_w)
    return cropped


def softmax_cross_entropy(logits, labels):
    """(loss, dlogits) for logits (N, C) on the GPU and labels (N,) integer classes (NumPy or device),
    as ``losses.softmax_cross_entropy``: loss a float, dlogits (N, C) a device array."""
    from numba import cuda

    from ..kernels import cuda_elementwise
    from ..kernels.cuda_launch import launch
    from .device import to_gpu

    rows = logits.shape[0]
    row_losses = cuda.device_array(rows, logits.dtype)
    dlogits = cuda.device_array(logits.shape, logits.dtype)
    launch(cuda_elementwise.softmax_cross_entropy_rows, rows, logits, to_gpu(labels), row_losses, dlogits)
    return float(row_losses.copy_to_host().sum()) / rows, dlogits


def sgd_update(param, grad, state, lr, momentum, nesterov, weight_decay):
    """One SGD step on ``param`` in place (see ``optim.SGD``); ``state`` holds the velocity."""
    from numba import cuda

    from ..kernels import cuda_elementwise
    from ..kernels.cuda_launch import launch

    first_step = "velocity" not in state
    if momentum and first_step:
        state["velocity"] = cuda.device_array(param.shape, param.dtype)
    velocity = state["velocity"] if momentum else param  # the kernel reads it only with momentum
    launch(cuda_elementwise.sgd_update, param.size, _flat(param), _flat(grad), _flat(velocity),
           lr, momentum, nesterov, weight_decay, first_step)


def adam_update(param, grad, state, lr, beta1, beta2, eps, weight_decay, decoupled):
    """One Adam (``decoupled``: AdamW) step on ``param`` in place, one fused kernel (see
    ``optim.Adam``); ``state`` holds the moment estimates m and v (device arrays of param's shape)
    and the step count t."""
    from numba import cuda

    from ..kernels import cuda_elementwise
    from ..kernels.cuda_launch import launch

    first_step = not state
    if first_step:  # the kernel writes m and v before it reads them on the first step
        state.update(m=cuda.device_array(param.shape, param.dtype), v=cuda.device_array(param.shape, param.dtype), t=0)
    state["t"] += 1
    t = state["t"]
    launch(cuda_elementwise.adam_update, param.size, _flat(param), _flat(grad), _flat(state["m"]), _flat(state["v"]),
           lr, beta1, beta2, eps, weight_decay, decoupled, first_step, lr / (1.0 - beta1 ** t),
           math.sqrt(1.0 - beta2 ** t))
