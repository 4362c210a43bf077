# generated from derivations/emission/__init__.py by `python -m derivations emit` with SymPy 1.14.0; do not edit
"""Emitted kernel modules: numpy_ce, numpy_binary, numpy_kl, torch_ce, torch_binary, torch_kl, triton_ce."""
