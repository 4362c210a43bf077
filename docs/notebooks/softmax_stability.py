# %% [markdown]
# # Overflow, then stability
#
# The softmax and the log-sum-exp are one line each in a textbook, and that line fails on a computer.
# This notebook runs the textbook version on the logits $[123, 456, 789]$ in `float32`, watches it
# fail, then runs the stable version, derived in the claim `softmax.max_shift`:
# $\operatorname{LSE}(z) = m + \log \sum_j e^{z_j - m}$ for every real $m$.

# %%
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
import torch
import torch.nn.functional as F

from derivations import claim_by_id
from derivations.engine.symbols import m, z

logits = torch.tensor([123.0, 456.0, 789.0])  # float32, PyTorch's default
target = torch.tensor(0)

# %% [markdown]
# ## The textbook version (not robust)
#
# $e^{123}$ is about $2.6 \cdot 10^{53}$, far beyond the largest `float32`, about $3.4 \cdot 10^{38}$.
# Every exponential overflows to `inf`, the softmax becomes `inf / inf = nan`, and the loss is `inf`:

# %%
exps = torch.exp(logits)
naive_softmax = exps / exps.sum()
naive_lse = torch.log(exps.sum())
print("exp(z):         ", exps)
print("naive softmax:  ", naive_softmax)
print("naive LSE:      ", naive_lse)
print("naive CE(z, 0): ", naive_lse - logits[target])

# %% [markdown]
# ## The stable version
#
# The derivation that makes it safe, straight from `derivations/topics/softmax.py`, for three logits:

# %%
derivation = claim_by_id("softmax.max_shift").build(3)
textbook, stable = (
    derivation.steps[0].expr.doit(),
    derivation.steps[-1].expr.doit(),
)
sp.Eq(textbook, stable, evaluate=False)

# %% [markdown]
# Both sides, turned into `float32` NumPy functions of the three logits and $m$. With
# $m = \max_j z_j = 789$ every exponent $z_j - m$ is at most $0$: the terms are
# $e^{-666}$, $e^{-333}$ (both harmlessly $0$ in `float32`) and $e^0 = 1$.

# %%
symbols = (z[1], z[2], z[3], m)
textbook_f = sp.lambdify(symbols, textbook, "numpy")
stable_f = sp.lambdify(symbols, stable, "numpy")
z32 = logits.numpy()
m32 = z32.max()
with np.errstate(over="ignore"):
    print("textbook LSE:", textbook_f(*z32, m32))
print(
    "stable LSE:  ", stable_f(*z32, m32), "  dtype", stable_f(*z32, m32).dtype
)

# %% [markdown]
# PyTorch computes exactly this. Its softmax, log-sum-exp and cross-entropy are finite, and the loss
# is $\operatorname{LSE}(z) - z_0 = 789 - 123 = 666$:

# %%
print("torch.softmax:     ", torch.softmax(logits, dim=0))
print("torch.logsumexp:   ", torch.logsumexp(logits, dim=0))
print("F.cross_entropy:   ", F.cross_entropy(logits, target))
print("stable LSE - z[0]: ", torch.logsumexp(logits, dim=0) - logits[target])

# %% [markdown]
# The project's kernels, generated from the stable form, agree in both backends:

# %%
import kernels.numpy as kn
import kernels.torch as kt

print("kernels.torch.cross_entropy:", kt.cross_entropy(logits, target))
print("kernels.numpy.cross_entropy:", kn.cross_entropy(z32, np.int64(0)))

# %% [markdown]
# ## Where the textbook version breaks
#
# Slide three logits $(x, x - 1, x - 2)$ along the real line and compute their log-sum-exp both ways
# in `float32`. The exact value is $x + \log(1 + e^{-1} + e^{-2})$. The textbook form overflows to
# `inf` above $x \approx 88.7$ and underflows to $\log 0 = -\infty$ below $x \approx -104$; the stable
# form is right everywhere.

# %%
xs = np.linspace(-150, 150, 1201, dtype=np.float32)
rows = np.stack([xs, xs - 1, xs - 2], axis=1)
exact = xs.astype(np.float64) + np.log1p(np.exp(-1.0) + np.exp(-2.0))
with np.errstate(over="ignore", divide="ignore"):
    naive = textbook_f(*rows.T, rows.max(axis=1))
safe = stable_f(*rows.T, rows.max(axis=1))
broken = ~np.isfinite(naive)
low, high = xs[~broken].min(), xs[~broken].max()
scale = np.maximum(1.0, np.abs(exact))  # relative, but absolute near 0
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.plot(xs, np.abs(safe - exact) / scale, label="stable")
ok = ~broken
ax.plot(xs[ok], np.abs(naive - exact)[ok] / scale[ok], "--", label="textbook")
ax.axvspan(xs.min(), low, color="C3", alpha=0.15, label="textbook: inf")
ax.axvspan(high, xs.max(), color="C3", alpha=0.15)
ax.set(xlabel="x (logits x, x - 1, x - 2)", ylabel="error / max(1, |LSE|)")
ax.set(yscale="log", ylim=(1e-10, 1e-4))
ax.legend(loc="upper center", fontsize=8)
fig.tight_layout()
print(f"textbook form finite for x in [{low:.1f}, {high:.1f}]")

# %% [markdown]
# Inside the safe range both forms agree to `float32` precision (the errors sit at the level of
# $2^{-24} \approx 6 \cdot 10^{-8}$), except at its lower edge, where the textbook's terms are
# subnormal numbers with few digits left; outside it only the stable form gives an answer. This is why the
# project's kernels emit only the shifted form, and why their emitter refuses any $e^{a}$ whose
# argument is not provably $\le 0$.
