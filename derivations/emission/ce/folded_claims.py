"""Claims: the folded forms, where the row shift enters the exponent through one fused multiply-add.

    d' = sum_j 2^(c z_j + s),   d' / 2^(c m + s) = sum_j exp(z_j - m) = d       (kernel.ce_folded_sum)
    sum_j w_j (c z_j + s) - (c m + s) sum_j w_j = sum_j w_j u_j                 (kernel.ce_folded_smooth)
    2^(c z_k + s) = a exp(z_k - m) with s = log2 a - c m                        (kernel.ce_folded_grad)

with c = 1 / ln 2 and s any real number: the kernels take s <= -c m, -c m rounded down to a float32, so
that c z + s <= 0 is one fused multiply-add (torch.add(s, z, alpha=c)) instead of a subtraction and a
product. The first two identities hold for every c and s, so a wrapper that computes c m + s exactly (in
float64) undoes the rounding of s exactly; the gradient's s is rounded too, and kernels/_fold.py bounds
what that costs.
"""

from __future__ import annotations

import sympy as sp

from derivations.core import chain
from derivations.kernel_ce import _rule, _sample, bind, forms, row_sum
from derivations.kernel_forms import DF, SWU, SWUF, Exp2, M, S, W
from derivations.symbols import j, scalar, total, z

_CANCEL = "2^(c z_j + s) / 2^(c m + s) = 2^(c (z_j - m)): s cancels; 2^(x / ln 2) = exp(x) (kernel.exp2)"


def sample(n, rng) -> dict:
    """The kernel sampler's values and a shift s near -c m (any real s makes the identities hold)."""
    values = _sample(n, rng)
    return {**values, **scalar(S, rng, -float(values[M]) / 0.6931 - 1, -float(values[M]) / 0.6931 + 1)}


def _folded_sum(n):
    f = forms()
    folded = f["folded_sum"].xreplace({DF: row_sum(Exp2(f["folded_shift"]), n)})  # d' as the wrapper sums it
    return chain(
        bind(folded, n),
        (total(sp.exp(z[j] - M), n), _CANCEL, _into_sums),
        rule=_into_sums,
    )


def _folded_smooth(n):
    f = forms()
    swu = f["folded_swu"].xreplace({SWUF: row_sum(W * f["folded_shift"], n)})  # sum_j w_j u'_j, as summed
    return chain(
        bind(swu, n),
        (
            bind(SWU, n),
            "sum_j w_j (c z_j + s) = c sum_j w_j (z_j - m) + (c m + s) sum_j w_j: a constant leaves the sum",
            _rule(n),
        ),
        rule=_rule(n),
    )


def _into_sums(a, b):
    """a - b with every factor free of j moved into its sum, the sums over j merged and each exponential's
    argument expanded: 2^x 2^y = 2^(x + y) then shows the s terms cancel."""
    rest = sp.expand((a - b).doit())
    rest = rest.replace(lambda e: isinstance(e, sp.Mul) and any(isinstance(x, sp.Sum) for x in e.args), _inside)
    terms = sp.Add.make_args(rest)
    sums = [t for t in terms if isinstance(t, sp.Sum)]
    if sums and all(s.limits == sums[0].limits for s in sums):
        body = sp.Add(*[s.function for s in sums])
        rest = sp.Add(*[t for t in terms if not isinstance(t, sp.Sum)]) + sp.Sum(body, *sums[0].limits)
    rest = sp.powsimp(sp.expand(rest), combine="exp")
    rest = rest.replace(lambda e: isinstance(e, sp.exp), lambda e: sp.exp(sp.expand(e.args[0])))
    rest = rest.replace(lambda e: isinstance(e, sp.Sum), lambda s: sp.Sum(sp.simplify(s.function), *s.limits))
    return sp.simplify(rest)


def _inside(product: sp.Mul) -> sp.Expr:
    """c * sum_j f_j -> sum_j c f_j for the one sum of a product (c free of j)."""
    sums = [x for x in product.args if isinstance(x, sp.Sum)]
    if len(sums) != 1:
        return product
    (s,) = sums
    return sp.Sum(sp.powsimp(sp.expand((product / s) * s.function), combine="exp"), *s.limits)
