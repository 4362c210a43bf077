"""Softmax cross-entropy with class indices on (N, C, S) logits (torch backend): one pass of blocks.

Per block of about 1 MiB (kernels/_blocks.py), with the emitted kernels of kernels/_generated/torch_ce.py,
each written through ``out=`` into one preallocated block:

    m = max_j z_j,    u = (z - m) / ln 2 <= 0,    e = 2^u = exp(z - m),    d = sum_j e_j
    swu = sum_j w_j u_j                          (label smoothing only: one matrix-vector product)
    loss = w_t ((m - z_t) + log d),    smooth = (sum_j w_j) log d - ln 2 swu    (per row, after the pass)

In float32 on a device whose torch.add(s, z, alpha=c) is one fused multiply-add, u is folded into one
pass, u' = c z + s with s = -c m rounded down, and d, swu are corrected exactly after it (kernels/_fold.py).

Forward keeps m, d and w_t (N S floats each; lse = m + log d) and a reference to the logits, which are
alive anyway: never log-probabilities, never an N x C buffer. Backward recomputes the gradient from the
saved m block by block straight into its own blocks: a e - b w with e = exp(z - m), computed as
2^((z - m) / ln 2 + log2 a) - b w when every a is in [0, 1] (kernel.ce_scaled_grad), or folded as
2^(c z + s) - b w with s = log2 a - c m (kernel.ce_folded_grad), then -g (1 - eps) w_t added at the target
index (no one-hot).

CrossEntropyOverwrite (the opt-in kernels.torch.cross_entropy_overwrite_logits) writes that gradient,
for an upstream gradient of 1, over the logits during the same pass (one exponential per element) and
keeps nothing else; its backward multiplies it in place by grad_output. Half types (float16, bfloat16)
are computed in float32, in a float32 copy of each block.
"""

from __future__ import annotations

import torch

from kernels import _fold
from kernels._blocks import block_bytes, blocks, views
from kernels._generated import torch_ce as _ce
from kernels._torch_ce import _reduce, _scale, _zero, acc_dtype, once, target_weight


def _class_dot(u: torch.Tensor, w: torch.Tensor | None) -> torch.Tensor:
    """sum_j w_j u_j over the classes of a block (rows, C, k) -> (rows, 1, k); the plain sum without weights."""
    if w is None:
        return u.sum(1, keepdim=True)
    if u.shape[2] == 1:
        return torch.mv(u[:, :, 0], w)[:, None, None]  # a matrix-vector product, not a block temporary
    return torch.matmul(w, u)[:, None, :]


class _Gradient:
    """Per-position coefficients of the index-target gradient (all (N, 1, S)), for blocks of rows."""

    def __init__(self, g, safe, wt, weight, eps, num_classes, acc):
        self.g, self.safe, self.wt, self.eps, self.num_classes = g, safe, wt, eps, num_classes
        self.sw = weight.to(acc).sum() if weight is not None else float(num_classes)  # sum_j w_j
        ones = torch.ones((), dtype=acc, device=g.device)  # w_j = 1: a tensor, as addcmul_ takes
        self.w_row = weight.to(acc)[None, :, None] if weight is not None else ones  # w_j along the classes
        self.b = _ce.ce_grad_smooth_coef(g, eps, num_classes) if eps > 0 else None  # g eps / C
        self.at = _ce.ce_grad_at_target(g, wt, eps)  # -g (1 - eps) w_t

    def coef(self, d, ix=slice(None)):
        """a = g ((1 - eps) w_t + eps sw / C) / d, the coefficient of exp(z - m)."""
        return _ce.ce_grad_coef(self.g[ix], self.wt[ix], self.sw, self.eps, self.num_classes, d)

    def parts(self, index):
        """Per block of ``index``: its views (safe, at, b) of the targets and the row coefficients."""
        return [block[1:] for block in views(index, self.safe, self.at, self.b)]

    def write(self, out, e, a, part):
        """out = a e - b w (+ at the target): the gradient of a block whose e = exp(z - m) is given."""
        safe, at, b = part
        if b is not None:
            _ce.ce_grad_dense_smooth_into(out, e, self.w_row, a, b)
        else:
            _ce.ce_grad_dense_into(out, e, a)
        out.scatter_add_(1, safe, at)  # -g (1 - eps) w_t at k = t only

    def write_folded(self, out, z, shift, part):
        """out = 2^(c z + s) - b w (+ at the target), s = log2 a - c m: the same gradient, one fused shift."""
        safe, at, b = part
        if b is not None:
            _ce.ce_grad_folded_smooth_into(out, z, _fold.C32, self.w_row, shift, b)
        else:
            _ce.ce_grad_folded_into(out, z, _fold.C32, shift)
        out.scatter_add_(1, safe, at)  # -g (1 - eps) w_t at k = t only

    def write_scaled(self, out, z, m, la, part):
        """out = 2^((z - m) / ln 2 + log2 a) - b w (+ at the target): the same gradient, a moved into the exponent."""
        safe, at, b = part
        if b is not None:
            _ce.ce_grad_scaled_smooth_into(out, z, m, self.w_row, la, b)
        else:
            _ce.ce_grad_scaled_into(out, z, m, la)
        out.scatter_add_(1, safe, at)  # -g (1 - eps) w_t at k = t only


def _scratch(scratch, shape, like, acc):
    """A block-shaped view of one reused working buffer (the first block is the largest)."""
    if scratch is None:
        scratch = torch.empty(shape, dtype=acc, device=like.device)
    return scratch, (scratch if scratch.shape == shape else scratch[: shape[0], :, : shape[2]])


def row_pass(logits, safe, weight, eps, acc, overwrite: _Gradient | None = None, fold: bool | None = None):
    """m, d, (label smoothing) swu and the target logit z_t of every position, (N, 1, S) each. With
    ``overwrite``, the gradient it describes is written over the logits, in the same pass.

    ``fold`` (by default where kernels/_fold.py allows it, never with ``overwrite``) computes each block's
    exponent as c z + s in one fused multiply-add and corrects d and swu after the pass; positions it
    cannot fold (|m| >= 2^23, a non-finite m) are then passed again unfolded."""
    logits = logits.detach()  # same storage and version counter; its block views skip autograd's view tracking
    n, num_classes, s = logits.shape
    w = weight.to(acc) if weight is not None else None
    m = torch.empty((n, 1, s), dtype=acc, device=logits.device)
    d = torch.empty_like(m)
    zt = torch.empty((n, 1, s), dtype=logits.dtype, device=logits.device)
    swu = torch.empty_like(m) if eps > 0 else None
    cast = logits.dtype != acc
    in_place = overwrite is not None and not cast
    scratch = None
    if fold is None:
        fold = overwrite is None and _fold.folding(logits, acc)
    shift = torch.empty_like(m) if fold else None  # the row shifts s <= -c m
    shifter = _fold.Shift(logits.device) if fold else None
    if overwrite is None:  # z_t of every position in one call; the overwrite gathers each block before writing it
        torch.gather(logits, 1, safe, out=zt)
    size = block_bytes(logits.device.type, logits.numel() * logits.element_size())
    index = list(blocks(n, num_classes, s, torch.finfo(acc).bits // 8, size))
    parts = overwrite.parts(index) if overwrite is not None else [None] * len(index)
    targets = zt if overwrite is not None else None
    blocks_views = views(index, logits, m, d, targets, safe, shift, swu)
    for (ix, block, mb, db, ztb, safeb, sb, swub), part in zip(blocks_views, parts, strict=True):
        z = block
        if cast:  # half types: the float32 copy of the block is the working block
            z = buf = block.to(acc)
        elif in_place:
            buf = block
        else:
            scratch, buf = _scratch(scratch, z.shape, z, acc)
        torch.amax(z, 1, keepdim=True, out=mb)  # m = max_j z_j, straight into m
        if ztb is not None:
            torch.gather(block, 1, safeb, out=ztb)  # z_t while the block is in cache, before the overwrite
        if fold:  # u' = c z + s <= 0 in one fused multiply-add, s = -c m rounded down
            u = _ce.folded_shift_into(buf, z, _fold.C32, shifter.into(sb, mb))
        else:
            u = _ce.base2_shift_into(buf, z, mb)  # u = (z - m) / ln 2 <= 0
        if swub is not None:
            swub.copy_(_class_dot(u, w))  # sum_j w_j u_j
        e = _ce.base2_exp_into(buf, u)  # e = 2^u = exp(z - m), in (0, 1]
        torch.sum(e, 1, keepdim=True, out=db)  # d = sum_j e_j, straight into d
        if overwrite is not None:
            overwrite.write(buf, e, overwrite.coef(db, ix), part)
            if not in_place:
                block.copy_(buf)
    if fold:
        _unfolded_rows(logits, safe, weight, eps, acc, m, d, swu, shift)
    return m, d, swu, zt.to(acc)


def _unfolded_rows(logits, safe, weight, eps, acc, m, d, swu, shift):
    """d = d' / 2^(c m + s) and swu = swu' - (c m + s) sum_j w_j where the pass folded; the rows with a
    position it could not fold (|m| >= 2^23 or not finite) are passed again, unfolded."""
    sw = weight.double().sum() if weight is not None else float(logits.shape[1])  # sum_j w_j
    _fold.unfold(m, shift, d, swu, sw)  # a position that could not fold gets a wrong d here, replaced below
    rows = _fold.unfoldable_rows(m)
    if rows is None:
        return
    m2, d2, swu2, _ = row_pass(logits[rows], safe[rows], weight, eps, acc, fold=False)
    m[rows], d[rows] = m2, d2
    if swu is not None:
        swu[rows] = swu2


def index_loss(zt, wt, valid, m, d, swu, weight, eps, reduction, den, dtype, num_classes):
    """The loss from the row statistics: w_t ((m - z_t) + log d), mixed with the smoothing term."""
    acc = d.dtype
    nll = torch.where(valid, _ce.ce_index_loss(zt, wt, m, d), _zero(d))  # ignored: exactly 0, even for a nan row
    if eps == 0:
        return _reduce(nll, reduction, den, dtype)
    sw = weight.to(acc).sum() if weight is not None else float(num_classes)  # sum_j w_j
    smooth = torch.where(valid, _ce.ce_smooth_row(sw, d, swu), _zero(d))  # sum_j w_j (lse - z_j)
    if reduction == "none":  # (1 - eps) nll + eps/C smooth at each position
        return _ce.ce_smoothed_loss(nll, smooth, eps, num_classes).to(dtype)
    # torch reduces both terms first: with den = 0 the nll mean is 0/0 = nan whatever the smoothing term
    parts = [_reduce(part, reduction, den, acc) for part in (nll, smooth)]
    return _ce.ce_smoothed_loss(*parts, eps, num_classes).to(dtype)


def _setup(logits, safe, valid, weight):
    acc = acc_dtype(logits.dtype)
    wt = target_weight(safe, valid, weight, acc)
    return acc, wt, wt.sum()  # den: torch's weighted-mean denominator, sum of w_t over kept positions


class CrossEntropyIndex(torch.autograd.Function):
    """cross_entropy with class indices; ``safe`` (N, 1, S) holds the targets with ignored ones set to 0.

    Saves the per-row statistics m, d and w_t only (with the logits and targets, which are alive anyway);
    backward recomputes e = exp(z - m) into the gradient.
    """

    @staticmethod
    def forward(ctx, logits, safe, valid, weight, eps, reduction):
        acc, wt, den = _setup(logits, safe, valid, weight)
        m, d, swu, zt = row_pass(logits, safe, weight, eps, acc)
        ctx.save_for_backward(logits, safe, valid, weight, m, d, den, wt)
        ctx.eps, ctx.reduction = eps, reduction
        return index_loss(zt, wt, valid, m, d, swu, weight, eps, reduction, den, logits.dtype, logits.shape[1])

    @staticmethod
    def backward(ctx, grad_out):
        logits, safe, valid, weight, m, d, den, wt = ctx.saved_tensors
        eps, num_classes = ctx.eps, logits.shape[1]
        acc = acc_dtype(logits.dtype)
        with torch.no_grad():
            g = _scale(grad_out, ctx.reduction, logits.shape, den, valid, acc)
            rows = _Gradient(g, safe, wt, weight, eps, num_classes, acc)
            a = rows.coef(d)  # g ((1 - eps) w_t + eps sw / C) / d, every position at once
            grad = _recompute(logits, m, a, rows, acc)
        (grad,) = once("cross_entropy", (grad,), (logits,))
        return grad, None, None, None, None, None


def _recompute(logits, m, a, rows: _Gradient, acc):
    """The gradient block by block, e = exp(z - m) recomputed from the saved m straight into its block.

    Where every a lies in [0, 1] (loss.backward() through a mean or a sum: a = g w_t / d <= 1), a moves into
    the exponent, a exp(z - m) = 2^((z - m) / ln 2 + log2 a) with log2 a <= 0, and the multiply pass goes:
    the exponent stays <= 0 and an a of 0 (an ignored position) gives 2^-inf = 0 exactly. Where float32
    allows (kernels/_fold.py), m and log2 a join in one row shift s and the exponent c z + s is one
    fused multiply-add.
    """
    logits = logits.detach()  # block views without autograd's view tracking
    n, num_classes, s = logits.shape
    grad = torch.empty(logits.shape, dtype=logits.dtype, device=logits.device)
    la = _ce.log2_coef(a)  # log2 a: <= 0 for a in [0, 1], nan for a < 0 or a nan, -inf for a = 0
    la = la if bool((la <= 0).all()) else None  # otherwise the multiply form
    shift = _fold.grad_shift(m, la) if la is not None and _fold.folding(logits, acc) else None
    cast = grad.dtype != acc
    # float32 and float64 work in the gradient's own blocks, with no working buffer: blocks twice as large
    # halve the calls (measured 5 % faster at 8192 x 1000); half types keep 1 MiB float32 working blocks
    size = block_bytes(logits.device.type, logits.numel() * logits.element_size()) * (1 if cast else 2)
    index = list(blocks(n, num_classes, s, torch.finfo(acc).bits // 8, size))
    parts = rows.parts(index)
    if shift is not None:  # split only what the path reads: the folded one reads s, the scaled one m and log2 a
        m = a = la = None
    elif la is not None:
        a = None
    # last block first: forward read it last, so it is the likeliest to be still in cache
    blocks_views = list(zip(views(index, logits, grad, m, a, la, shift), parts, strict=True))
    for (_, z, out, mb, ab, lab, sb), part in reversed(blocks_views):
        if cast:  # half types: the float32 copy of the block is the working block
            block, z = out, z.to(acc)
            out = z
        if sb is not None:  # c z + s, s = log2 a - c m: one fused multiply-add
            rows.write_folded(out, z, sb, part)
        elif lab is not None:
            rows.write_scaled(out, z, mb, lab, part)
        else:
            e = _ce.shifted_exp_into(out, z, mb)  # e = exp(z - m)
            rows.write(out, e, ab, part)
        if cast:
            block.copy_(out)
    return grad


class CrossEntropyOverwrite(torch.autograd.Function):
    """cross_entropy with class indices whose forward writes the gradient over ``logits`` (opt-in).

    ``logits`` holds d loss / d logits for grad_output = 1 after forward; backward scales it in place by
    grad_output and returns it: no N x C buffer is allocated at all. A second backward through the same
    graph would scale it twice, so it raises.
    """

    @staticmethod
    def forward(ctx, logits, safe, valid, weight, eps, reduction):
        acc, wt, den = _setup(logits, safe, valid, weight)
        n, num_classes, s = logits.shape
        ones = torch.ones((n, s) if reduction == "none" else (), dtype=acc, device=logits.device)
        g = _scale(ones, reduction, logits.shape, den, valid, acc)  # the reduction's factor, 0 where ignored
        rows = _Gradient(g, safe, wt, weight, eps, num_classes, acc)
        m, d, swu, zt = row_pass(logits, safe, weight, eps, acc, overwrite=rows)
        ctx.save_for_backward(logits)  # now the gradient; saved after the overwrite, at its new version
        ctx.reduction, ctx.used = reduction, False
        return index_loss(zt, wt, valid, m, d, swu, weight, eps, reduction, den, logits.dtype, num_classes)

    @staticmethod
    def backward(ctx, grad_out):
        if ctx.used:
            raise RuntimeError(
                "cross_entropy_overwrite_logits: backward ran twice through one call; its gradient lives in the "
                "logits' storage and was already scaled by the first. Call the loss again for a second backward, "
                "or use kernels.torch.cross_entropy"
            )
        ctx.used = True
        (grad,) = ctx.saved_tensors
        with torch.no_grad():
            if ctx.reduction == "none":  # one upstream value per position
                grad.mul_(grad_out.reshape(grad.shape[0], 1, grad.shape[2]).to(grad.dtype))
            elif grad_out.device.type != "cpu" or bool(grad_out != 1):  # loss.backward() passes 1: nothing to do
                grad.mul_(grad_out.to(grad.dtype))
        (grad,) = once("cross_entropy", (grad,), (grad_out,))
        return grad, None, None, None, None, None
