"""Claims: the folded forms, where the row shift enters the exponent through one fused multiply-add.

    d' = sum_j 2^(c z_j + s),   d' / 2^(c m + s) = sum_j exp(z_j - m) = d       (kernel.ce_folded_sum)
    sum_j w_j (c z_j + s) - (c m + s) sum_j w_j = sum_j w_j u_j                 (kernel.ce_folded_smooth)
    2^(c z_k + s) = a exp(z_k - m) with s = log2 a - c m                        (kernel.ce_folded_grad)

with c = 1 / ln 2 and s any real number: the kernels take s <= -c m, -c m rounded down to a float32, so
that c z + s <= 0 is one fused multiply-add (torch.add(s, z, alpha=c)) instead of a subtraction and a
product. The first two identities hold for every c and s, so a wrapper that computes c m + s exactly (in
float64) undoes the rounding of s exactly; the gradient's s is rounded too, and kernels/torch/_fold.py bounds
what that costs.
"""

from __future__ import annotations

import sympy as sp

from derivations.emission.ce.common import ASSUMPTIONS, bind, claims_of, row_sum, sample, sample_positive
from derivations.emission.ce.forms import forms
from derivations.emission.ce.gradient_claims import log2_of_coefficient, with_exponent_link
from derivations.emission.kernel import DF, LA, SWU, SWUF, Exp2, M, S, W
from derivations.engine import rules
from derivations.engine.core import Derivation, chain
from derivations.engine.samplers import scalar
from derivations.engine.symbols import j, total, z

CLAIMS = claims_of(__name__)
claims = CLAIMS.list
_CANCEL = "2^(c z_j + s) / 2^(c m + s) = 2^(c (z_j - m)): s cancels; 2^(x / ln 2) = exp(x) (kernel.exp2)"


def sample_shift(n, rng) -> dict:
    """The kernel sampler's values and a shift s near -c m (any real s makes the identities hold)."""
    values = sample(n, rng)
    return {**values, **scalar(S, rng, -float(values[M]) / 0.6931 - 1, -float(values[M]) / 0.6931 + 1)}


@CLAIMS.claim(
    "kernel.ce_folded_sum",
    "Folded exponent: the row sum d from sum_j 2^(c z_j + s), for any s",
    sample=sample_shift,
    assumptions=(*ASSUMPTIONS, "c = 1 / ln 2; s any real number (the kernels round -c m down to a float32)"),
)
def folded_sum(n) -> Derivation:
    f = forms()
    folded = f["folded_sum"].xreplace({DF: row_sum(Exp2(f["folded_shift"]), n)})  # d' as the wrapper sums it
    return chain(
        bind(folded, n),
        (total(sp.exp(z[j] - M), n), _CANCEL, _into_sums),
        rule=_into_sums,
    )


@CLAIMS.claim(
    "kernel.ce_folded_smooth",
    "Folded exponent: sum_j w_j u_j from sum_j w_j (c z_j + s)",
    sample=sample_shift,
    assumptions=(*ASSUMPTIONS, "c = 1 / ln 2; s any real number"),
)
def folded_smooth(n) -> Derivation:
    f = forms()
    swu = f["folded_swu"].xreplace({SWUF: row_sum(W * f["folded_shift"], n)})  # sum_j w_j u'_j, as summed
    return chain(
        bind(swu, n),
        (
            bind(SWU, n),
            "sum_j w_j (c z_j + s) = c sum_j w_j (z_j - m) + (c m + s) sum_j w_j: a constant leaves the sum",
            rules.by_scope(n),
        ),
        rule=rules.by_scope(n),
    )


@CLAIMS.claim(
    "kernel.ce_folded_grad",
    "The gradient with m and log2 a in one row shift s (folded backward)",
    concrete=(2, 3),
    sample=sample_positive,
    assumptions=(
        *ASSUMPTIONS,
        "a in (0, 1], c = 1 / ln 2, s = log2 a - c m (the wrapper rounds it down; a = 0 gives 2^-inf)",
    ),
)
def folded_grad(n) -> Derivation:
    """One fused multiply-add: c z_k + s with the row's s = log2 a - c m."""
    f = forms()
    shift = f["folded_grad_shift"].xreplace({LA: log2_of_coefficient()})
    why = "c (z_k - m) + log2 a = c z_k + s with s = log2 a - c m, c = 1 / ln 2: one row term"
    return with_exponent_link(n, f["ce_grad_folded_smooth"].xreplace({S: shift}), why)


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
