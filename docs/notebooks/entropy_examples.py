# %% [markdown]
# # Entropy in numbers
#
# The worked examples of the [Entropy](../../entropy/) page, computed from the expressions in
# `derivations/topics/information.py` (the ones SymPy checked), then compared with PyTorch. Logarithms are
# natural: entropy is in nats, and $\log 2 \approx 0.693$ nats is one bit.

# %%
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
import torch

from derivations.engine.symbols import p
from derivations.topics.information import entropy, entropy_of

# %% [markdown]
# ## The worked examples
#
# `entropy_of(values)` writes $H$ out term by term, with the convention $0 \log 0 = 0$ (the limit of
# $x \log x$ as $x \to 0^+$). SymPy evaluates it exactly; `torch.special.entr` computes $-x \log x$
# elementwise with the same convention.

# %%
examples = {
    "fair coin": [sp.Rational(1, 2), sp.Rational(1, 2)],
    "biased coin": [sp.Rational(1, 10), sp.Rational(9, 10)],
    "certain event": [sp.S.One, sp.S.Zero],
    "fair die": [sp.Rational(1, 6)] * 6,
}
for name, probs in examples.items():
    exact = sp.nsimplify(entropy_of(probs).doit())
    by_torch = torch.special.entr(
        torch.tensor([float(v) for v in probs], dtype=torch.float64)
    ).sum()
    print(
        f"{name:13s} {sp.sstr(exact):26s} {float(exact):.12f}"
        f"  torch {by_torch.item():.12f}"
    )

# %% [markdown]
# The exact value of the biased coin, as SymPy prints it:

# %%
entropy_of(examples["biased coin"]).doit()

# %% [markdown]
# A naive implementation that computes `p * log(p)` directly gets the certain event wrong: $\log 0$
# is $-\infty$ and $0 \cdot (-\infty)$ is `nan`. The limit convention is not a detail.

# %%
certain = np.array([1.0, 0.0])
with np.errstate(divide="ignore", invalid="ignore"):
    print("naive -sum p log p:", -(certain * np.log(certain)).sum())
print(
    "torch.special.entr:",
    torch.special.entr(torch.from_numpy(certain)).sum().item(),
)

# %% [markdown]
# ## The entropy of a coin
#
# For two outcomes with probabilities $a$ and $1 - a$, the general definition $H(p) = -\sum_j p_j \log p_j$
# with $n = 2$ becomes the *binary entropy* function. Here it is obtained from the derivation's
# expression by substitution, then turned into a NumPy function:

# %%
a = sp.Symbol("a", positive=True)
binary_entropy = entropy(p, 2).doit().subs({p[1]: a, p[2]: 1 - a})
binary_entropy

# %%
H = sp.lambdify(a, binary_entropy, "numpy")
grid = np.linspace(1e-6, 1 - 1e-6, 801)
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(grid, H(grid), label="$H(a, 1-a)$ in nats")
ax.plot(grid, H(grid) / np.log(2), ls="--", label="in bits")
ax.axhline(np.log(2), color="gray", lw=1, ls=":")
for point in (0.1, 0.5):
    ax.plot(point, H(point), "o", color="C3")
    ax.annotate(
        f"H({point}) = {H(point):.3f}",
        (point, H(point)),
        textcoords="offset points",
        xytext=(8, -14),
    )
ax.plot([0, 1], [0, 0], "o", color="C3")
ax.set(
    xlabel="probability a of heads",
    ylabel="entropy",
    ylim=(0, 1.08),
    title="Binary entropy",
)
ax.legend(loc="lower center")
fig.tight_layout()

# %% [markdown]
# The curve is $0$ at both ends (a certain outcome, by the limit convention), symmetric around
# $a = 1/2$, and reaches its maximum $\log 2$ nats, one bit, for the fair coin.
#
# ## The bounds, on random distributions
#
# $0 \le H(p) \le \log n$: the lower bound because every surprisal $\log(1/p_j)$ is nonnegative, the
# upper bound by Gibbs' inequality. On ten thousand random distributions over $n = 5$ outcomes (drawn
# from a Dirichlet distribution, some nearly certain, some nearly uniform):

# %%
n = 5
rng = np.random.default_rng(0)
samples = rng.dirichlet(np.full(n, 0.5), size=10_000)
values = torch.special.entr(torch.from_numpy(samples)).sum(dim=1).numpy()
print(
    f"smallest H = {values.min():.4f} >= 0,  "
    f"largest H = {values.max():.4f} <= log {n} = {np.log(n):.4f}"
)
fig, ax = plt.subplots(figsize=(7, 2.8))
ax.hist(values, bins=60, color="C0")
ax.axvline(np.log(n), color="C3", label=f"log {n}")
ax.set(
    xlabel="H(p) in nats",
    ylabel="count",
    title=f"Entropy of random distributions over {n} outcomes",
)
ax.legend()
fig.tight_layout()
