# %% [markdown]
# # KL divergence is not symmetric
#
# $D_{\mathrm{KL}}(p \,\|\, q) = \sum_j p_j \log(p_j / q_j)$ weighs each log-ratio by $p$, the
# distribution the outcomes come from. Swapping the arguments changes the weights, so
# $D_{\mathrm{KL}}(p \,\|\, q) \ne D_{\mathrm{KL}}(q \,\|\, p)$ in general. The divergence below is the
# expression of the claim `information.kl_divergence`, turned into a NumPy function; PyTorch's
# `F.kl_div` gives the same numbers.

# %%
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
import torch
import torch.nn.functional as F

from derivations.engine.symbols import p, q
from derivations.topics.information import (
    cross_entropy,
    entropy,
    kl_divergence,
)

# %% [markdown]
# ## Two coins
#
# Let $p = (a, 1 - a)$ and $q = (b, 1 - b)$. With $n = 2$ the general expressions become functions of
# $a$ and $b$:

# %%
a, b = sp.symbols("a b", positive=True)
coins = {p[1]: a, p[2]: 1 - a, q[1]: b, q[2]: 1 - b}
kl_coins = kl_divergence(p, q, 2).doit().subs(coins)
kl_coins

# %% [markdown]
# The decomposition $H(p, q) = D_{\mathrm{KL}}(p \,\|\, q) + H(p)$ holds for these two coins, as SymPy
# confirms for this special case:

# %%
decomposition = cross_entropy(p, q, 2) - kl_divergence(p, q, 2) - entropy(p, 2)
sp.simplify(sp.expand_log(decomposition.doit().subs(coins), force=True))

# %%
kl = sp.lambdify((a, b), kl_coins, "numpy")
p_fixed = 0.2
bs = np.linspace(0.01, 0.99, 393)
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(bs, kl(p_fixed, bs), label=r"$D_{KL}(p\,\|\,q)$")
ax.plot(bs, kl(bs, p_fixed), label=r"$D_{KL}(q\,\|\,p)$", ls="--")
ax.axvline(p_fixed, color="gray", lw=1, ls=":")
ax.set(xlabel="q = (b, 1 - b): probability b", ylabel="nats", ylim=(0, 2.5))
ax.set_title(f"p = ({p_fixed}, {1 - p_fixed:.1f}) fixed, q varies")
ax.legend()
fig.tight_layout()

# %% [markdown]
# Both curves are $0$ only at $q = p$ (Gibbs' inequality, with equality exactly there) and positive
# elsewhere, but they are different curves. $D_{\mathrm{KL}}(p \,\|\, q)$ blows up as $b \to 0$: $p$
# gives the first outcome probability $0.2$, and a model that calls it nearly impossible pays
# $0.2 \log(0.2 / b)$, without bound. The reverse direction weighs by $q$, which then barely visits
# that outcome, so it stays moderate.
#
# One point in numbers, with PyTorch's `F.kl_div(input=log q, target=p, reduction="sum")`:

# %%
P = torch.tensor([0.2, 0.8], dtype=torch.float64)
Q = torch.tensor([0.05, 0.95], dtype=torch.float64)
print(
    f"D(p||q): sympy {kl(0.2, 0.05):.6f}  "
    f"torch {F.kl_div(Q.log(), P, reduction='sum').item():.6f}"
)
print(
    f"D(q||p): sympy {kl(0.05, 0.2):.6f}  "
    f"torch {F.kl_div(P.log(), Q, reduction='sum').item():.6f}"
)

# %% [markdown]
# ## Fitting one bump to two
#
# The asymmetry decides what a fitted model looks like. Take a target $p$ with two separated modes
# and fit a single Gaussian-shaped $q$ (on a grid of 200 outcomes) by minimising each direction:
#
# - minimising $D_{\mathrm{KL}}(p \,\|\, q)$, the cross-entropy direction that classification uses,
#   forces $q$ to cover *every* outcome that $p$ produces: it spreads over both modes;
# - minimising $D_{\mathrm{KL}}(q \,\|\, p)$ lets $q$ ignore outcomes, as long as it puts no mass where
#   $p$ has none: it locks onto one mode.

# %%
grid = torch.linspace(-6, 6, 200, dtype=torch.float64)


def normalised(logits):
    return torch.softmax(logits, dim=0)


def bump(mean, log_width):
    return normalised(-0.5 * ((grid - mean) / log_width.exp()) ** 2)


narrow = torch.tensor(-0.3)
target = 0.5 * bump(-2.5, narrow) + 0.5 * bump(2.5, narrow)


def fit(direction, start):
    mean = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    log_width = torch.tensor(-0.5, dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.Adam([mean, log_width], lr=0.05)
    for _ in range(600):
        model = bump(mean, log_width)
        if direction == "forward":  # D(p || q) = sum p log(p / q)
            loss = (target * (target.log() - model.log())).sum()
        else:  # D(q || p) = sum q log(q / p)
            loss = (model * (model.log() - target.log())).sum()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return bump(mean, log_width).detach(), loss.item()


forward, forward_loss = fit("forward", 1.0)
reverse, reverse_loss = fit("reverse", 1.0)
fig, ax = plt.subplots(figsize=(8, 3.6))
ax.fill_between(grid, target, color="gray", alpha=0.3, label="target p")
covers = f"argmin D(p||q): covers both (D = {forward_loss:.3f})"
seeks = f"argmin D(q||p): one mode (D = {reverse_loss:.3f})"
ax.plot(grid, forward, label=covers)
ax.plot(grid, reverse, "--", label=seeks)
ax.set(xlabel="outcome", ylabel="probability")
ax.legend(loc="upper left", fontsize=8)
fig.tight_layout()

# %% [markdown]
# Classification minimises the cross-entropy $H(p, q)$, which differs from $D_{\mathrm{KL}}(p \,\|\, q)$
# only by the constant $H(p)$: it is the *covering* direction. A classifier trained with cross-entropy
# is pushed to give every class that really occurs a reasonable probability, because a confident miss
# costs without bound.
