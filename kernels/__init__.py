"""Cross-entropy kernels emitted from the checked derivations, in three backends.

    import kernels.torch   # drop-in for torch.nn.functional's cross-entropy family (+ nn modules)
    import kernels.numpy   # the same losses on NumPy arrays, plus <name>_grad vector-Jacobian products
    import kernels.triton  # cross_entropy, nll_loss, linear_cross_entropy as Triton kernels (CUDA; needs triton)

The backends are submodules only (``kernels.torch`` would shadow the ``torch`` package if re-exported
here). Importing ``kernels`` imports neither NumPy, torch nor SymPy; the backends import NumPy or torch,
never SymPy.
"""

__version__ = "0.1.0"
__all__ = ["MisuseWarning", "__version__"]


class MisuseWarning(UserWarning):
    """A likely mistake in a cross_entropy call (probabilities passed as logits, ...), found by ``explain``.

    Emitted only inside ``kernels.torch.warn_on_misuse()`` / ``kernels.numpy.warn_on_misuse()``; ``finding``
    holds the finding (its ``code``, ``severity`` and ``message``).
    """

    def __init__(self, message: str, finding=None):
        super().__init__(message)
        self.finding = finding
