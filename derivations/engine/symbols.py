"""The glossary: one SymPy symbol per idea, shared by every derivation.

    n   number of classes C          j   summation index, 1..n
    k   a class index (free)         t   the target class (index target)
    p   a probability vector         q   a model distribution
    z   logits (real)                y   a target distribution (probability target)
    w   class weights                eps label smoothing
    c   a real shift                 LSE(z) = log sum_j exp(z_j), the row log-sum-exp

Classes are numbered 1..n in the derivations (the kernels number them 0..C-1).
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import N

n = N
j = sp.Symbol("j", integer=True)
k = sp.Symbol("k", integer=True, positive=True)
t = sp.Symbol("t", integer=True, positive=True)
p = sp.IndexedBase("p", positive=True)
q = sp.IndexedBase("q", positive=True)
z = sp.IndexedBase("z", real=True)
y = sp.IndexedBase("y", real=True)
w = sp.IndexedBase("w", real=True)
eps = sp.Symbol("varepsilon", nonnegative=True)
c = sp.Symbol("c", real=True)
x = sp.Symbol("x", real=True)


def total(expr: sp.Expr, size) -> sp.Expr:
    """sum_{j=1}^{size} expr, unevaluated (``.doit()`` expands it for a concrete size)."""
    return sp.Sum(expr, (j, 1, size))


def lse_explicit(logits: sp.IndexedBase, size) -> sp.Expr:
    """The textbook log-sum-exp, log sum_j exp(z_j)."""
    return sp.log(total(sp.exp(logits[j]), size))


def softmax(logits: sp.IndexedBase, index, size) -> sp.Expr:
    """The textbook softmax_index(z) = exp(z_index) / sum_j exp(z_j)."""
    return sp.exp(logits[index]) / total(sp.exp(logits[j]), size)


class LSE(sp.Function):
    """The row log-sum-exp as an opaque statistic, LSE(z, n) = log sum_{j=1}^n exp(z_j).

    Its derivative is *declared* as d LSE / d z_k = exp(z_k - LSE(z, n)) (the softmax, in stable
    form); the claim ``softmax.lse_gradient`` checks that declaration against log(sum exp).
    Kernels compute it once per row with the max shift, so lse >= max_j z_j >= z_k.
    """

    is_real = True

    def _eval_derivative(self, s):
        logits, _ = self.args
        if isinstance(s, sp.Indexed) and s.base == logits:
            return sp.exp(s - self)
        return sp.S.Zero

    def expand_explicit(self) -> sp.Expr:
        logits, size = self.args
        return lse_explicit(logits, size)

    def _latex(self, printer, exp=None):
        logits, _ = self.args
        tex = r"\operatorname{LSE}\left(" + printer._print(logits) + r"\right)"
        return tex if exp is None else tex + "^{" + str(exp) + "}"


def explicit(expr: sp.Basic) -> sp.Basic:
    """Replace every opaque LSE by log(sum exp): ties the kernel form to the textbook form."""
    return expr.replace(lambda e: isinstance(e, LSE), lambda e: e.expand_explicit())


# Further names used by the softmax and cross-entropy claims.

#: A second summation index, for a sum over classes around a softmax (whose denominator sums over j).
i = sp.Symbol("i", integer=True)
#: A second free class index (the column of a Hessian entry).
l = sp.Symbol("l", integer=True, positive=True)
#: The shift of the stable log-sum-exp, LSE(z) = m + log sum_j exp(z_j - m); the kernels use m = max_j z_j.
m = sp.Symbol("m", real=True)
#: A direction in logit space (the quadratic form u^T H u of the Hessian).
u = sp.IndexedBase("u", real=True)
#: Log-probabilities, the output of LogSoftmax and the input of NLLLoss: ell_k = log softmax_k(z).
ell = sp.IndexedBase("ell", real=True)
