"""The linear head: cross-entropy of z = W h + b, its gradients by the chain rule, and why chunks are exact.

    linear.logit_derivatives    dz_k/dh_l = W_{k,l},  dz_k/dW_{m,l} = [m = k] h_l,  dz_k/db_m = [m = k]
    linear.input_gradient       dL/dh_l = sum_k W_{k,l} g_k          (dL/dh = W^T g)
    linear.weight_gradient      dL/dW_{m,l} = g_m h_l                (dL/dW = g h^T)
    linear.bias_gradient        dL/db_m = g_m                        (dL/db = g)
    linear.chunked_mean         sum_r w_r l_r / sum_r w_r over all rows = (S_1 + S_2) / (D_1 + D_2) of two chunks
    linear.weight_gradient_chunks   sum_r g_{r,m} h_{r,l} = the sum of the two chunks' outer products

with L = sum_j q_j (LSE(z) - z_j) and g_k = dL/dz_k = (sum_j q_j) softmax_k(z) - q_k: every target kind at
once (q_j = w_t [j = t] for a weighted index target, (1 - eps) w_t [j = t] + eps w_j / C with label smoothing,
w_j y_j for probabilities; ce.weighted_prob_gradient). The logits z_k = sum_i W_{k,i} h_i + b_k of a row enter
as an opaque ``Logit`` whose derivatives are declared and checked (linear.logit_derivatives), as LSE's are.
A chunk split at row P is exact for every number of rows M (general M and P, 1 <= P <= M); any number of
chunks follows by splitting again.
"""

from __future__ import annotations

import sympy as sp

from derivations.engine.core import Derivation, chain
from derivations.engine.registry import Claims
from derivations.engine.rules import matrices, merged, scoped, sums_in_range
from derivations.engine.samplers import positives, reals
from derivations.engine.symbols import i, j, k, total

PAGE = "linear-head.md"
#: The hidden size H, a row's input h, the classifier W (C x H) and bias b; q the target's coefficients.
H = sp.Symbol("H", integer=True, positive=True)
W = sp.IndexedBase("W", real=True)
h = sp.IndexedBase("h", real=True)
b = sp.IndexedBase("b", real=True)
q = sp.IndexedBase("q", real=True)
l = sp.Symbol("l", integer=True, positive=True)  # a hidden unit
m = sp.Symbol("m", integer=True, positive=True)  # a class whose weights are differentiated
r = sp.Symbol("r", integer=True)  # a row of the batch
M, P = sp.symbols("M P", integer=True, positive=True)  # rows, and the last row of the first chunk
loss_term = sp.IndexedBase("l", real=True)  # l_r, the loss of row r
row_weight = sp.IndexedBase("w", positive=True)  # w_r, the weight of row r's target (0 where ignored)
g = sp.IndexedBase("g", real=True)  # g_{r,m}, dL/dz of row r
x = sp.IndexedBase("x", real=True)  # x_{r,l}, the input of row r

CLAIMS = Claims(
    __name__,
    page=PAGE,
    assumptions=(
        r"the input $h$, the classifier $W$ and the bias $b$ are real; the target's coefficients $q_j$ are real",
        r"$z_k = \sum_{i=1}^{H} W_{k,i} h_i + b_k$ for a hidden size $H \geq 1$",
    ),
    sympy_assumptions=("W, h, b, q = IndexedBase(..., real=True)", "l, m: integer, positive, asserted <= H and <= n"),
)
claims = CLAIMS.list


class Logit(sp.Function):
    """z_k = sum_i W_{k,i} h_i + b_k, opaque, with its derivatives declared (checked: linear.logit_derivatives)."""

    is_real = True

    def _eval_derivative(self, s):
        cls, weights, inputs, bias = self.args
        if isinstance(s, sp.Indexed) and s.base == inputs:  # dz_k/dh_l = W_{k,l}
            return weights[cls, s.indices[0]]
        if isinstance(s, sp.Indexed) and s.base == weights:  # dz_k/dW_{m,l} = [m = k] h_l
            return sp.KroneckerDelta(s.indices[0], cls) * inputs[s.indices[1]]
        if isinstance(s, sp.Indexed) and s.base == bias:  # dz_k/db_m = [m = k]
            return sp.KroneckerDelta(s.indices[0], cls)
        return sp.S.Zero

    def expand_explicit(self) -> sp.Expr:
        cls, weights, inputs, bias = self.args
        return total_over(weights[cls, i] * inputs[i]) + bias[cls]

    def _latex(self, printer, exp=None):
        tex = f"z_{{{printer._print(self.args[0])}}}"
        return tex if exp is None else f"{tex}^{{{exp}}}"


def total_over(body: sp.Expr) -> sp.Expr:
    """sum_{i=1}^{H} body: a sum over the hidden units."""
    return sp.Sum(body, (i, 1, H))


def z(cls) -> sp.Expr:
    return Logit(cls, W, h, b)


def ce(size) -> sp.Expr:
    """L = sum_j q_j (LSE(z) - z_j), the textbook log-sum-exp written out."""
    lse = sp.log(total(sp.exp(z(j)), size))
    return total(q[j] * (lse - z(j)), size)


def grad(cls, size) -> sp.Expr:
    """g_k = dL/dz_k = (sum_j q_j) softmax_k(z) - q_k (ce.weighted_prob_gradient)."""
    return total(q[j], size) * sp.exp(z(cls)) / total(sp.exp(z(j)), size) - q[cls]


def _sample(size, rng) -> dict:
    hidden = 3  # the spot check's hidden size; k, m and l are drawn too where a claim leaves them free
    values = {H: sp.Integer(hidden), **reals(q, size, rng), **reals(h, hidden, rng), **reals(b, size, rng)}
    values.update({k: sp.Integer(int(rng.integers(1, size + 1))), m: sp.Integer(int(rng.integers(1, size + 1)))})
    values[l] = sp.Integer(int(rng.integers(1, hidden + 1)))
    values.update(
        {
            W[a, c]: v
            for a in range(1, size + 1)
            for c, v in zip(range(1, hidden + 1), reals(W, hidden, rng).values(), strict=True)
        }
    )
    return values


_CHAIN = r"the chain rule through $z_k(h, W, b)$, with the declared $\partial z_k$ (`linear.logit_derivatives`)"


@CLAIMS.claim(
    "linear.logit_derivatives",
    "The logits of a linear layer: dz/dh = W, dz_k/dW_{m,l} = [m = k] h_l, dz_k/db_m = [m = k]",
    general=True,
    concrete=(),
    sample=_sample,
)
def logit_derivatives(size) -> Derivation:
    explicit = total_over(W[k, i] * h[i]) + b[k]
    entries = [sp.Derivative(explicit, h[l]), sp.Derivative(explicit, W[m, l]), sp.Derivative(explicit, b[m])]
    declared = [sp.Derivative(z(k), v).doit() for v in (h[l], W[m, l], b[m])]
    return chain(
        sp.Matrix(entries),
        (sp.Matrix(declared), r"differentiate the sum: only its $i = l$ term depends on $h_l$ or $W_{m,l}$"),
        rule=matrices(sums_in_range(H, l)),
    )


def _gradient_claim(variable, want, indices):
    def build(size) -> Derivation:
        return chain(
            sp.Derivative(ce(size), variable),
            (want(size), _CHAIN + r"; $\partial L / \partial z_k = g_k$ (`ce.weighted_prob_gradient`)"),
            rule=scoped(size, *indices, explicit_lse=False),
            indices=indices,
        )

    return build


linear_input = CLAIMS.claim(
    "linear.input_gradient", "Input gradient: dL/dh = W^T g", concrete=(2, 3, 4), sample=_sample
)(_gradient_claim(h[l], lambda n: sp.Sum(W[k, l] * grad(k, n), (k, 1, n)), ()))
linear_weight = CLAIMS.claim(
    "linear.weight_gradient", "Weight gradient: dL/dW = g h^T", concrete=(2, 3, 4), sample=_sample
)(_gradient_claim(W[m, l], lambda n: grad(m, n) * h[l], (m,)))
linear_bias = CLAIMS.claim("linear.bias_gradient", "Bias gradient: dL/db = g", concrete=(2, 3, 4), sample=_sample)(
    _gradient_claim(b[m], lambda n: grad(m, n), (m,))
)


def _rows(body, low, high) -> sp.Expr:
    return sp.Sum(body, (r, low, high))


def _sample_rows(size, rng) -> dict:
    rows = 6
    values = {M: sp.Integer(rows), P: sp.Integer(int(rng.integers(1, rows + 1)))}
    values.update({**reals(loss_term, rows, rng), **positives(row_weight, rows, rng)})
    values.update({g[a, 1]: v for a, v in zip(range(1, rows + 1), reals(g, rows, rng).values(), strict=True)})
    values.update({x[a, 1]: v for a, v in zip(range(1, rows + 1), reals(x, rows, rng).values(), strict=True)})
    return {**values, m: sp.Integer(1), l: sp.Integer(1)}  # one entry (m, l) = (1, 1) of the outer products


_ROWS = ("rows r = 1..M split after row P, 1 <= P <= M", "row weights w_r > 0 (an ignored row has w_r = 0 and l_r = 0)")


@CLAIMS.claim(
    "linear.chunked_mean",
    "The chunked mean is the mean: (S_1 + S_2) / (D_1 + D_2), not the mean of the chunks' means",
    assumptions=_ROWS,
    sympy_assumptions=("M, P: integer, positive",),
    general=True,
    concrete=(),
    sample=_sample_rows,
)
def chunked_mean(size) -> Derivation:
    whole = _rows(row_weight[r] * loss_term[r], 1, M) / _rows(row_weight[r], 1, M)
    numerator = _rows(row_weight[r] * loss_term[r], 1, P) + _rows(row_weight[r] * loss_term[r], P + 1, M)
    denominator = _rows(row_weight[r], 1, P) + _rows(row_weight[r], P + 1, M)
    why = r"each sum over all rows is the sum of the two chunks' partial sums; both are reduced before dividing"
    return chain(whole, (numerator / denominator, why), rule=merged)


@CLAIMS.claim(
    "linear.weight_gradient_chunks",
    "The weight gradient is the sum of the chunks' outer products",
    assumptions=_ROWS[:1],
    sympy_assumptions=("M, P: integer, positive",),
    general=True,
    concrete=(),
    sample=_sample_rows,
)
def weight_gradient_chunks(size) -> Derivation:
    whole = _rows(g[r, m] * x[r, l], 1, M)
    return chain(
        whole,
        (
            _rows(g[r, m] * x[r, l], 1, P) + _rows(g[r, m] * x[r, l], P + 1, M),
            r"$\sum_r g_r x_r^T$ over all rows is the first chunk's $g^T x$ plus the second's",
        ),
        rule=merged,
    )
