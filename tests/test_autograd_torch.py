"""Autograd of kernels.torch: gradcheck, double backward against torch, and what the graph saves.

Every loss is checked in float64 by torch.autograd.gradcheck for each reduction; second derivatives
(Hessian-vector products through double backward) match torch.nn.functional to atol 1e-12, rtol 1e-10
for every loss; and backward keeps only per-row statistics, never a new N x C tensor such as torch's
saved log-probabilities. torch.compile, torch.export and torch.func: tests/test_composable.py.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _compare import assert_close, seeded

import kernels.torch as kt

REDUCTIONS = ["none", "sum", "mean"]


def _autograd_cases(lib):
    """name -> (fn, float64 args): the loss taken from `lib` (kernels.torch or torch.nn.functional) and its
    differentiable arguments (logits or input first, then a floating target where there is one)."""
    g = seeded("autograd")
    r = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)  # noqa: E731
    t, ts = torch.tensor([0, 2, 1]), torch.tensor([[0, 3], [2, 1]])
    w = torch.rand(4, generator=g, dtype=torch.float64) + 0.5
    p = torch.softmax(r(3, 4), 1)
    return {
        "ce-index": (lambda x, red: lib.cross_entropy(x, t, reduction=red), [r(3, 4)]),
        "ce-ls-weight-ignore": (
            lambda x, red: lib.cross_entropy(x, t, w, ignore_index=1, reduction=red, label_smoothing=0.2),
            [r(3, 4)],
        ),
        "ce-spatial": (lambda x, red: lib.cross_entropy(x, ts, reduction=red), [r(2, 4, 2)]),
        "ce-prob-ls-weight": (
            lambda x, q, red: lib.cross_entropy(x, q, w, reduction=red, label_smoothing=0.1),
            [r(3, 4), p],
        ),
        "nll": (lambda x, red: lib.nll_loss(x, t, w, reduction=red), [r(3, 4)]),
        "bce": (
            lambda x, y, red: lib.binary_cross_entropy_with_logits(x, y, w, reduction=red, pos_weight=w.flip(0)),
            [r(3, 4), torch.rand(3, 4, generator=g, dtype=torch.float64)],
        ),
        "kl": (lambda x, q, red: lib.kl_div(x, q, reduction=red), [torch.log_softmax(r(3, 4), 1), p]),
        "kl-log-target": (
            lambda x, q, red: lib.kl_div(x, q, reduction=red, log_target=True),
            [torch.log_softmax(r(3, 4), 1), p.log()],
        ),
    }


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides")  # kl_div warns like torch; asserted in test_parity_api
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", list(_autograd_cases(F)))
def test_gradcheck(name, reduction):
    fn, args = _autograd_cases(kt)[name]
    leaves = [a.clone().requires_grad_() for a in args]
    assert torch.autograd.gradcheck(lambda *a: fn(*a, reduction), leaves)


@pytest.mark.parametrize("name", list(_autograd_cases(F)))
def test_double_backward_matches_torch(name):
    fn, args = _autograd_cases(kt)[name]
    ref_fn = _autograd_cases(F)[name][0]

    def second_order(f):
        leaves = [a.clone().requires_grad_() for a in args]
        grads = torch.autograd.grad(f(*leaves, "sum"), leaves, create_graph=True)
        # d/dargs of <grad, v> for a fixed v: a Hessian-vector product
        v = [torch.linspace(-1, 1, a.numel(), dtype=torch.float64).reshape(a.shape) for a in args]
        hv = sum((gi * vi).sum() for gi, vi in zip(grads, v, strict=True) if gi.requires_grad)
        if not torch.is_tensor(hv):  # no gradient depends on the inputs: every second derivative is 0
            return [torch.zeros_like(a) for a in args]
        out = torch.autograd.grad(hv, leaves, allow_unused=True)
        return [torch.zeros_like(a) if o is None else o for a, o in zip(args, out, strict=True)]

    expected, got = second_order(ref_fn), second_order(fn)
    for k, (a, e) in enumerate(zip(got, expected, strict=True)):
        assert_close(a, e, atol=1e-12, rtol=1e-10, what=f"{name}: Hessian-vector product wrt arg {k}")


def _saved_storages(fn, args):
    """Shapes and storage pointers of every tensor autograd saves while fn(*args) runs."""
    saved = []

    def pack(t):
        saved.append((tuple(t.shape), t.untyped_storage().data_ptr()))
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn(*args)
    return saved


SAVED_CASES = {
    "index": lambda lib, x, p, t, w: lib.cross_entropy(x, t),
    "index-weight-ls-ignore": lambda lib, x, p, t, w: lib.cross_entropy(x, t, w, ignore_index=3, label_smoothing=0.1),
    "prob-ls": lambda lib, x, p, t, w: lib.cross_entropy(x, p, label_smoothing=0.1),
    "spatial": lambda lib, x, p, t, w: lib.cross_entropy(x.view(8, 50, 20), t.view(8, 20).clamp(max=49)),
}


@pytest.mark.parametrize("name", list(SAVED_CASES))
def test_graph_saves_no_new_n_by_c_tensor(name):
    """Every saved tensor with N*C elements or more must be an input's storage: only per-row statistics
    (N floats) are new. Checked to fail on torch.nn.functional, which saves the N x C log-probabilities."""
    g = seeded("saved")
    N, C = 160, 50
    x = torch.randn(N, C, generator=g, requires_grad=True)
    p = torch.softmax(torch.randn(N, C, generator=g), 1).requires_grad_()
    t, w = torch.randint(0, C, (N,), generator=g), torch.rand(C, generator=g) + 0.5
    inputs = {a.untyped_storage().data_ptr() for a in (x, p, t, w)}

    def new_large(lib):
        saved = _saved_storages(SAVED_CASES[name], (lib, x, p, t, w))
        return [shape for shape, ptr in saved if torch.Size(shape).numel() >= N * C and ptr not in inputs]

    assert new_large(F), "the check must see torch's saved log-probabilities"
    assert new_large(kt) == [], f"{name}: kernels.torch saves new N x C tensors {new_large(kt)}"
