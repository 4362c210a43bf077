"""Cross-entropy kernels emitted from the checked derivations, in two backends.

    import kernels.torch   # drop-in for torch.nn.functional's cross-entropy family (+ nn modules)
    import kernels.numpy   # the same losses on NumPy arrays, plus <name>_grad vector-Jacobian products

The backends are submodules only (``kernels.torch`` would shadow the ``torch`` package if re-exported
here). Importing ``kernels`` imports neither NumPy, torch nor SymPy; the backends import NumPy or torch,
never SymPy.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
