"""CUDA kernels for the element-wise activations, one thread per element, compiled from the same
formulas as the CPU's (``activation_formulas``) bound to ``math``'s scalar functions.

``kernels(formulas)`` returns the (forward, backward) kernels of one activation, compiled once:

    forward(x, y, parameter):           y[i] = f(x[i])
    backward(dy, x, y, dx, parameter):  dx[i] = dy[i] * f'(x[i]) (f' from x[i] and y[i])

All arrays are flat (size,) views; launch with ``cuda_launch.launch``. Importing this module
imports ``numba.cuda``: the ops import it only when a GPU is used.
"""
import functools
import math

from numba import cuda

from .activation_formulas import Primitives


@cuda.jit(device=True)
def _where(condition, if_true, if_false):
    return if_true if condition else if_false


@cuda.jit(device=True)
def _maximum(a, b):
    return a if a >= b or a != a else b  # a NaN wins, as in np.maximum


@cuda.jit(device=True)
def _in_dtype_of(value, x):
    return value  # the kernel's store converts to the output's dtype


ON_NUMBERS = Primitives(tanh=math.tanh, exp=math.exp, erf=math.erf, where=_where, maximum=_maximum,
                        in_dtype_of=_in_dtype_of, callable_from_formulas=cuda.jit(device=True))


@functools.cache
def kernels(formulas):
    """The (forward, backward) kernels of the activation whose formulas ``formulas(primitives)``
    makes (a factory in ``activation_formulas``)."""
    forward_formula, gradient_formula = (cuda.jit(device=True)(formula) for formula in formulas(ON_NUMBERS))

    @cuda.jit
    def forward(x, y, parameter):
        i = cuda.grid(1)
        if i < y.size:
            y[i] = forward_formula(x[i], parameter)

    @cuda.jit
    def backward(dy, x, y, dx, parameter):
        i = cuda.grid(1)
        if i < dx.size:
            dx[i] = dy[i] * gradient_formula(x[i], y[i], parameter)

    return forward, backward
