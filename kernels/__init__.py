"""Cross-entropy kernels emitted from the checked derivations (NumPy and PyTorch backends)."""
