"""Validated public ops: check arguments, pick the device, call the kernels."""
