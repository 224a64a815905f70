"""CUDA kernels for the steps of training that are not products: the SGD and Adam updates and
softmax cross-entropy (the activations are in ``cuda_activations``). The updates take flat (size,)
views and run one thread per element; the loss runs one thread per row. Launch them with
``cuda_launch.launch``.
"""
import math

from numba import cuda


@cuda.jit
def sgd_update(param, grad, velocity, lr, momentum, nesterov, weight_decay, first_step):
    """One SGD step in place, as ``optim.SGD`` on the CPU: g = grad + weight_decay * param; with
    momentum, velocity = g on the first step, else momentum * velocity + g; then
    param -= lr * (g + momentum * velocity if nesterov else velocity), or lr * g without momentum.
    param, grad, velocity: (size,); velocity is unused without momentum.
    """
    i = cuda.grid(1)
    if i < param.size:
        g = grad[i] + weight_decay * param[i] if weight_decay else grad[i]
        if momentum:
            velocity[i] = g if first_step else momentum * velocity[i] + g
            g = g + momentum * velocity[i] if nesterov else velocity[i]
        param[i] -= lr * g


@cuda.jit
def adam_update(param, grad, m, v, lr, beta1, beta2, eps, weight_decay, decoupled, first_step, step_size,
                bias_correction2_root):
    """One Adam step in place, as ``optim.Adam`` on the CPU and in its order of operations. With
    weight decay, first param *= 1 - lr * weight_decay (``decoupled``, AdamW), or else
    g = grad + weight_decay * param; then m = beta1 * m + (1 - beta1) * g,
    v = beta2 * v + (1 - beta2) * g * g (m and v taken as 0 on the ``first_step``) and
    param -= step_size * m / (sqrt(v) / bias_correction2_root + eps), where the caller passes
    step_size = lr / (1 - beta1**t) and bias_correction2_root = sqrt(1 - beta2**t).
    param, grad, m, v: (size,).
    """
    i = cuda.grid(1)
    if i < param.size:
        g = grad[i]
        if weight_decay:
            if decoupled:
                param[i] *= 1.0 - lr * weight_decay
            else:
                g = g + weight_decay * param[i]
        m[i] = (1.0 - beta1) * g if first_step else beta1 * m[i] + (1.0 - beta1) * g
        v[i] = (1.0 - beta2) * g * g if first_step else beta2 * v[i] + (1.0 - beta2) * g * g
        param[i] -= step_size * m[i] / (math.sqrt(v[i]) / bias_correction2_root + eps)


@cuda.jit
def softmax_cross_entropy_rows(logits, labels, row_losses, dlogits):
    """Per row n: row_losses[n] = log-sum-exp(logits[n]) - logits[n, labels[n]] (the maximum
    subtracted first) and dlogits[n] = (softmax(logits[n]) - onehot(labels[n])) / N.
    logits, dlogits: (N, C); labels: (N,) integer classes; row_losses: (N,). One thread per row.
    """
    n = cuda.grid(1)
    rows, classes = logits.shape
    if n < rows:
        largest = logits[n, 0]
        for c in range(1, classes):
            largest = max(largest, logits[n, c])
        total = logits.dtype.type(0)
        for c in range(classes):
            total += math.exp(logits[n, c] - largest)
        log_total = math.log(total)
        row_losses[n] = log_total - (logits[n, labels[n]] - largest)
        for c in range(classes):
            probability = math.exp(logits[n, c] - largest - log_total)
            dlogits[n, c] = (probability - (1 if c == labels[n] else 0)) / rows
