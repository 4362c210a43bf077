"""linear_cross_entropy at its edges: torch's error inputs, its module's inputs, and the spots that bit others.

- PyTorch's error inputs (OpInfo and ModuleInfo): the same exception type, torch's text, and a fix named;
- LinearCrossEntropyLoss on every ModuleInfo input: state_dicts load both ways, same loss and gradients;
- ignored rows give exactly zero gradient; a confident bfloat16 row keeps its target gradient accurate;
  the weight gradient of a half-precision input accumulates in float32 over many chunks; the caller's
  tensors are never written; a second backward recomputes; a double
  backward matches torch's; the loss is the same bits whatever the chunk size.
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _compare import assert_close, seeded
from _linear_cases import internal

import kernels.torch as kt


def test_torch_error_inputs_raise_torchs_exception_and_text():
    op_db, _ = internal()
    (op,) = [o for o in op_db if o.name == "nn.functional.linear_cross_entropy" and not o.variant_test_name]
    errors = list(op.error_inputs("cpu"))
    assert len(errors) >= 6
    for e in errors:
        s = e.sample_input
        with pytest.raises(e.error_type, match=e.error_regex):
            kt.linear_cross_entropy(s.input, *s.args, **s.kwargs)


@pytest.mark.parametrize(
    "args, kwargs, error, text",
    [
        ((torch.randn(2, 3), torch.randn(4, 3).double(), torch.tensor([0, 1])), {}, RuntimeError, "same dtype"),
        ((torch.randn(2, 3), torch.randn(4, 3), torch.tensor([0, 4])), {}, IndexError, r"Target 4 is out of bounds"),
        ((torch.randn(2, 3), torch.randn(4, 3), torch.tensor([0, 1])), {"options": 8}, TypeError, "options must be"),
        ((torch.randn(2, 3), torch.randn(4, 3), torch.tensor([0, 1])), {"reduction": "avg"}, ValueError, "reduction"),
        ((torch.randn(2, 3), torch.randn(4, 3), torch.tensor([0, 1]).int()), {}, RuntimeError, "Long or Byte"),
    ],
    ids=["dtype-mismatch", "target-out-of-range", "options-type", "reduction", "int32-target"],
)
def test_our_own_error_inputs_name_the_problem(args, kwargs, error, text):
    with pytest.raises(error, match=text):
        kt.linear_cross_entropy(*args, **kwargs)
    if error is not TypeError:  # torch raises the same type (it has no options type check to compare)
        with pytest.raises(error):
            F.linear_cross_entropy(*args, **kwargs)


def _module_pair(constructor):
    theirs = torch.nn.LinearCrossEntropyLoss(*constructor.args, **constructor.kwargs)
    ours = kt.LinearCrossEntropyLoss(*constructor.args, **constructor.kwargs)
    assert not ours.load_state_dict(theirs.state_dict()).missing_keys
    assert not theirs.load_state_dict(ours.state_dict()).missing_keys
    return ours, theirs


@pytest.mark.filterwarnings("ignore:linear_cross_entropy. ``options`` ignored")  # torch's, where it falls back
def test_module_inputs_give_torchs_loss_and_gradients():
    _, module_db = internal()
    (info,) = [m for m in module_db if m.module_cls is torch.nn.LinearCrossEntropyLoss]
    inputs = list(info.module_inputs_func(info, device="cpu", dtype=torch.float64, requires_grad=True, training=True))
    assert len(inputs) > 100
    for number, case in enumerate(inputs[::7]):  # every seventh: all constructor options, a few seconds
        ours, theirs = _module_pair(case.constructor_input)
        args = case.forward_input.args
        out = [m(*args, **case.forward_input.kwargs) for m in (ours, theirs)]
        assert_close(out[0], out[1], atol=1e-12, rtol=1e-12, what=f"module input {number}: loss")
        upstream = torch.rand(out[1].shape, generator=seeded("module", number), dtype=out[1].dtype) + 0.5
        inputs = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
        grads = [
            torch.autograd.grad(o, [*inputs, *m.parameters()], upstream, allow_unused=True)
            for o, m in zip(out, (ours, theirs), strict=True)
        ]
        for k, (a, b) in enumerate(zip(*grads, strict=True)):
            assert (a is None) == (b is None), f"module input {number}: gradient {k}"
            if a is not None:
                assert_close(a, b, atol=1e-12, rtol=1e-12, what=f"module input {number}: gradient {k}")


# torch's own error regex for this module holds a "[[" that Python's re flags as a possible nested set.
@pytest.mark.filterwarnings("ignore:Possible nested set:FutureWarning")
def test_module_error_inputs_raise_like_torchs():
    _, module_db = internal()
    (info,) = [m for m in module_db if m.module_cls is torch.nn.LinearCrossEntropyLoss]
    cases = list(
        info.module_error_inputs_func(info, device="cpu", dtype=torch.float64, requires_grad=True, training=True)
    )
    assert cases
    for case in cases:
        ctor, fwd = case.module_error_input.constructor_input, case.module_error_input.forward_input
        with pytest.raises(case.error_type, match=case.error_regex):
            kt.LinearCrossEntropyLoss(*ctor.args, **ctor.kwargs)(*fwd.args, **fwd.kwargs)


def _leaves(n=64, h=16, c=40, dtype=torch.float32, key="edges"):
    gen = seeded(key, n, h, c, str(dtype))
    x = torch.randn(n, h, generator=gen).to(dtype).requires_grad_()
    w = (torch.randn(c, h, generator=gen) * 0.3).to(dtype).requires_grad_()
    return x, w, torch.randint(0, c, (n,), generator=gen)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ignored_rows_get_exactly_zero_gradient(reduction):
    x, w, target = _leaves()
    target[::3] = -100
    loss = kt.linear_cross_entropy(x, w, target, reduction=reduction, label_smoothing=0.1)
    loss.backward(torch.rand(loss.shape, generator=seeded("ignored")) + 0.5)
    assert torch.equal(x.grad[::3], torch.zeros_like(x.grad[::3])) and bool(x.grad[1::3].abs().sum() > 0)


def test_a_confident_bfloat16_row_keeps_its_target_gradient():
    """Liger-Kernel's bf16 bug: s_t - 1 formed from a rounded s_t near 1 loses every digit. Ours forms it in
    float32; its error against float64 must stay within 4x torch's own bfloat16 error (Liger's bar)."""
    x, w, target = _leaves(n=16, h=8, c=4096, dtype=torch.float32, key="confident")
    with torch.no_grad():
        w[target[0]] += 12 * x[0] / x[0].square().sum()  # the target logit of row 0 rises by 12
        assert (x @ w.T)[0].softmax(0)[target[0]] > 0.99
    errors = []
    for fn in (kt.linear_cross_entropy, F.linear_cross_entropy):
        xb = x.detach().bfloat16().requires_grad_()
        fn(xb, w.detach().bfloat16(), target).backward()
        x64 = xb.detach().double().requires_grad_()
        F.linear_cross_entropy(x64, w.detach().bfloat16().double(), target).backward()
        errors.append((xb.grad[0].double() - x64.grad[0]).abs().max().item())
    assert errors[0] <= 4 * errors[1] + 1e-12, f"ours {errors[0]:.3g} against torch's {errors[1]:.3g}"


def test_half_precision_weight_gradient_accumulates_in_float32_across_chunks():
    """256 chunks of one row each: accumulated in bfloat16, the weight gradient would drift by ~256 ulps."""
    x, w, target = _leaves(n=256, h=8, c=24, dtype=torch.bfloat16, key="accumulate")
    kt.linear_cross_entropy(
        x, w, target, reduction="sum", options=torch.nn.LinearCrossEntropyOptions(batch_chunk_size=1)
    ).backward()
    w64 = w.detach().double().requires_grad_()
    F.linear_cross_entropy(x.detach().double(), w64, target, reduction="sum").backward()
    worst = ((w.grad.double() - w64.grad).abs() / w64.grad.abs().clamp_min(1e-3)).max().item()
    assert worst <= 2.0**-8, f"relative error {worst:.3g}: more than one bfloat16 rounding"


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_the_callers_tensors_are_never_written(reduction):
    x, w, target = _leaves()
    bias, weight = torch.randn(40, requires_grad=True), torch.rand(40) + 0.5
    before = [t.detach().clone() for t in (x, w, target, bias, weight)]
    kt.linear_cross_entropy(x, w, target, linear_bias=bias, weight=weight, reduction=reduction).sum().backward()
    for b, t in zip(before, (x, w, target, bias, weight), strict=True):
        assert torch.equal(b, t.detach())


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_a_second_backward_recomputes(reduction):
    """The first backward of 'mean' and 'sum' hands over the gradients formed in forward; a second one
    (retain_graph=True) passes the chunks again, with its own grad_output."""
    x, w, target = _leaves()
    loss = kt.linear_cross_entropy(x, w, target, reduction=reduction).sum()
    loss.backward(retain_graph=True)
    first = (x.grad.clone(), w.grad.clone())
    (loss * 3).backward()
    for got, once in zip((x.grad, w.grad), first, strict=True):
        assert_close(got, 4 * once, atol=1e-5, rtol=1e-5, what=f"second backward of {reduction!r}")


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_double_backward_matches_torch(reduction):
    """create_graph=True builds the gradients as a graph: Hessian-vector products in x and W match torch's."""
    x, w, target = _leaves(n=12, h=5, c=7, dtype=torch.float64)
    target[::4] = -100
    kwargs = dict(ignore_index=-100, label_smoothing=0.1, reduction=reduction)

    def hvp(lib):
        loss = lib.linear_cross_entropy(x, w, target, **kwargs).sum()
        gx, gw = torch.autograd.grad(loss, (x, w), create_graph=True)
        return torch.autograd.grad((gx * gx.detach()).sum() + (gw * gw.detach()).sum(), (x, w))

    for got, expected in zip(hvp(kt), hvp(F), strict=True):
        assert_close(got, expected, atol=1e-12, rtol=1e-10, what=f"Hessian-vector product, {reduction}")


def test_the_loss_is_the_same_bits_whatever_the_chunk():
    x, w, target = _leaves(n=50)
    losses = []
    for rows in (1, 7, 16, 50):
        options = torch.nn.LinearCrossEntropyOptions(batch_chunk_size=rows)
        losses.append(kt.linear_cross_entropy(x, w, target, label_smoothing=0.1, options=options).item())
    assert len(set(losses)) == 1, losses
    with torch.no_grad():  # and forward alone, with nothing to differentiate, agrees too
        assert kt.linear_cross_entropy(x, w, target, label_smoothing=0.1).item() == losses[0]
