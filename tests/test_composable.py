"""kernels.torch composes like torch's own losses: torch.compile(fullgraph=True), torch.export, torch.func.

For every loss and option, in float64 against the same transform of torch.nn.functional (atol 1e-10,
rtol 1e-9: the transforms reorder sums, nothing else):
- every loss: cross_entropy (index and probability targets), nll_loss, binary_cross_entropy_with_logits,
  kl_div, linear_cross_entropy, cross_entropy with lse_square_scale and softcap, and the overwrite variant;
- torch.compile with fullgraph=True and no graph break (counted by torch._dynamo.explain), values and
  gradients through AOTAutograd (``aot_eager``: fake tensors and functionalisation, what inductor receives);
  a few cases through inductor itself, which compiles C++ (slow, so not every case);
- torch.export round-trips through save and load;
- torch.func.grad, vmap of per-sample gradients, jacrev, jacfwd, hessian and jvp;
- gradcheck with forward mode, and gradgradcheck (every differentiable argument; the overwrite variant,
  whose logits are gone after forward, refuses double backward clearly);
- the modules inside a model: one graph, torch's values and gradients, an export;
- an out-of-range target is still an IndexError with our message, eagerly, compiled and under vmap.
"""

from __future__ import annotations

import io

import _composable_cases as _cases_module
import pytest
import torch
import torch._dynamo as dynamo
import torch.nn.functional as F
from _compare import assert_close, seeded
from functorch.compile import make_boxed_func
from torch._dynamo.backends.common import aot_autograd
from torch.func import grad, hessian, jacfwd, jacrev, jvp, vmap

import kernels.torch as kt

pytestmark = pytest.mark.filterwarnings("ignore:reduction. .mean. divides")  # kl_div warns like torch does

TOL = dict(atol=1e-10, rtol=1e-9)


CASES = _cases_module.CASES
SCALAR = [name for name in CASES if not name.endswith("-none")]


def _pair(name):
    make, args = CASES[name]
    return make(kt), make(F), args


def _leaves(args):
    return [a.clone().requires_grad_(a.is_floating_point()) for a in args]


def _loss_and_grads(fn, args):
    leaves = _leaves(args)
    out = fn(*leaves)
    differentiable = [a for a in leaves if a.requires_grad]
    return [out, *torch.autograd.grad(out.sum(), differentiable)]


def _assert_all_close(got, expected, what):
    for k, (a, e) in enumerate(zip(got, expected, strict=True)):
        assert_close(a, e, **TOL, what=f"{what} [{k}]")


@pytest.mark.parametrize("name", CASES)
def test_compile_fullgraph_has_no_graph_break_and_matches_torch(name):
    ours, theirs, args = _pair(name)
    dynamo.reset()
    explained = dynamo.explain(ours)(*args)
    assert explained.graph_break_count == 0, f"{name}: graph breaks {explained.break_reasons}"
    compiled = torch.compile(ours, fullgraph=True, backend="aot_eager")
    _assert_all_close(_loss_and_grads(compiled, args), _loss_and_grads(theirs, args), f"{name} compiled")


@pytest.mark.parametrize("name", ["ce-weight-ignore-smooth-mean", "ce-prob-weight-smooth-sum", "bce-weight-pos-mean"])
def test_compile_with_inductor_matches_torch(name):
    ours, theirs, args = _pair(name)
    dynamo.reset()
    compiled = torch.compile(ours, fullgraph=True)
    _assert_all_close(_loss_and_grads(compiled, args), _loss_and_grads(theirs, args), f"{name} inductor")


@pytest.mark.parametrize("classes", [7, 1500])
def test_compiled_graphs_hold_the_emitted_expressions(classes):
    """A compiled graph holds our emitted expressions for inductor to fuse, at every row length: the range
    check stays an operator, the passes' operators do not appear, and the gradient of z_t is a where(), not a
    scatter into zeros. Torch's values and gradients."""
    g = seeded("composable-wide", classes)
    z, t = torch.randn(6, classes, generator=g, dtype=torch.float64), torch.randint(0, classes, (6,), generator=g)
    t[1] = -100
    graphs = {}

    def keep(name):  # the ATen graph of the forward or the backward, as inductor would receive it
        def compiler(gm, inputs):
            graphs[name] = str(gm.graph)
            return make_boxed_func(gm.forward)

        return compiler

    def fn(x, target):
        return kt.cross_entropy(x, target, label_smoothing=0.1)

    dynamo.reset()
    backend = aot_autograd(fw_compiler=keep("forward"), bw_compiler=keep("backward"))
    got = _loss_and_grads(torch.compile(fn, fullgraph=True, backend=backend), (z, t))
    expected = _loss_and_grads(lambda x, target: F.cross_entropy(x, target, label_smoothing=0.1), (z, t))
    _assert_all_close(got, expected, f"compiled at C = {classes}")
    assert "index_targets" in graphs["forward"] and "aten.exp" in graphs["forward"]
    assert "verified_ce" not in graphs["backward"] and "aten.exp" in graphs["backward"]  # recomputed, fusable
    assert "scatter" not in graphs["backward"] and "aten.eq" in graphs["backward"]  # [j = t], not a scatter
    assert "ce_index_rows" not in graphs["forward"]


class _Loss(torch.nn.Module):
    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, *args):
        return self.fn(*args)


@pytest.mark.parametrize("name", CASES)
def test_export_round_trips(name):
    ours, theirs, args = _pair(name)
    program = torch.export.export(_Loss(ours), args)
    buffer = io.BytesIO()
    torch.export.save(program, buffer)
    buffer.seek(0)
    loaded = torch.export.load(buffer)
    # the softmax losses stay one registered op in the program; bce and kl_div are pointwise torch operations
    if not name.startswith(("bce", "kl")):
        assert any("verified_ce" in str(node.target) for node in loaded.graph.nodes), f"{name}: no verified_ce op"
    assert_close(loaded.module()(*args), theirs(*args), **TOL, what=f"{name} exported")


def _direction(x):
    return torch.linspace(-1, 1, x.numel(), dtype=x.dtype).reshape(x.shape)


TRANSFORMS = {
    "grad": lambda f, args: grad(f)(*args),
    "vmap-of-grad": lambda f, args: vmap(grad(f))(*args),  # per-sample gradients, one row at a time
    "jacrev": lambda f, args: jacrev(f)(*args),
    "jacfwd": lambda f, args: jacfwd(f)(*args),
    "hessian": lambda f, args: hessian(f)(*args),
    "jvp": lambda f, args: jvp(lambda x: f(x, *args[1:]), (args[0],), (_direction(args[0]),))[1],
}


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("name", SCALAR)
def test_torch_func_transforms_match_torch(name, transform):
    ours, theirs, args = _pair(name)
    if transform == "vmap-of-grad" and (
        name.startswith(("kl", "linear", "overwrite", "ce-z-loss")) or "spatial" in name
    ):
        pytest.skip(
            "per-sample slices of these inputs are not losses torch defines the same way, or its target is fixed"
        )
    apply = TRANSFORMS[transform]
    assert_close(apply(ours, args), apply(theirs, args), **TOL, what=f"{name} {transform}")


@pytest.mark.parametrize("name", CASES)
def test_gradcheck_forward_mode_and_gradgradcheck(name):
    ours, _, args = _pair(name)
    leaves = _leaves(args)
    if name.startswith("overwrite"):  # one backward per call (gradcheck runs two), no double backward: below
        assert torch.autograd.gradcheck(ours, leaves, check_forward_ad=True, check_backward_ad=False)
        return
    assert torch.autograd.gradcheck(ours, leaves, check_forward_ad=True)
    assert torch.autograd.gradgradcheck(ours, leaves)


def test_the_overwrite_variant_refuses_double_backward_clearly():
    z = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(
        kt.cross_entropy_overwrite_logits(z * 1.0, torch.tensor([0, 1, 3])), z, create_graph=True
    )
    with pytest.raises(RuntimeError, match=r"double backward is not supported by kernels\.torch\.cross_entropy"):
        g.sum().backward()


def test_modules_compile_in_a_model_and_export():
    """CrossEntropyLoss and LinearCrossEntropyLoss inside an nn.Module: one graph, torch's values, an export."""
    g = seeded("composable-modules")
    x, t = torch.randn(6, 4, generator=g, dtype=torch.float64), torch.tensor([0, 2, 1, 4, 3, 0])

    class Head(torch.nn.Module):
        def __init__(self, lib):
            super().__init__()
            self.body = torch.nn.Linear(4, 4, dtype=torch.float64)
            self.ce = lib.CrossEntropyLoss(label_smoothing=0.1)
            self.lce = lib.LinearCrossEntropyLoss(4, 5, bias=True, dtype=torch.float64)

        def forward(self, x, t):
            h = torch.tanh(self.body(x))
            return self.ce(h, t.clamp(max=3)) + self.lce(h, t)

    ours, theirs = Head(kt), Head(torch.nn)
    theirs.load_state_dict(ours.state_dict())
    dynamo.reset()
    assert dynamo.explain(ours)(x, t).graph_break_count == 0
    compiled = torch.compile(ours, fullgraph=True, backend="aot_eager")
    got, expected = compiled(x, t), theirs(x, t)
    got.backward()
    expected.backward()
    assert_close(got, expected, **TOL, what="compiled model loss")
    for (name, a), b in zip(ours.named_parameters(), theirs.parameters(), strict=True):
        assert_close(a.grad, b.grad, **TOL, what=f"compiled model gradient of {name}")
    program = torch.export.export(ours, (x, t))
    assert_close(program.module()(x, t), expected, **TOL, what="exported model")


def test_an_out_of_range_target_raises_eagerly_compiled_and_under_vmap():
    z, bad = torch.randn(3, 4, dtype=torch.float64), torch.tensor([0, 7, 1])
    message = r"Target 7 is out of bounds: class indices must lie in \[0, 3\]"
    with pytest.raises(IndexError, match=message):
        kt.cross_entropy(z, bad)
    dynamo.reset()
    with pytest.raises(IndexError, match=message):
        torch.compile(kt.cross_entropy, fullgraph=True, backend="aot_eager")(z, bad)
    with pytest.raises(IndexError, match=message):
        vmap(grad(kt.cross_entropy))(z, bad)
    with pytest.raises(IndexError, match=message):
        kt.nll_loss(torch.log_softmax(z, 1), bad)
