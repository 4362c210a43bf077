# %% [markdown]
# # Checking the gradient
#
# The [Softmax cross-entropy](../../softmax-cross-entropy/) page derives the gradient of the loss with
# respect to the logits, $\partial L / \partial z_k = \operatorname{softmax}_k(z) - y_k$. Here it is
# held to two independent witnesses on real numbers: finite differences, which know nothing about
# the formula, and PyTorch's autograd, which differentiates its own implementation step by step.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from derivations import claim_by_id

torch.manual_seed(0)
torch.set_printoptions(precision=4, linewidth=76)
claim_by_id("ce.gradient_index").derivation().statement()

# %% [markdown]
# ## Three gradients of one loss
#
# A batch of $N = 4$ examples with $C = 5$ classes, in `float64`. With reduction `"mean"` the loss is
# the average over the batch, so each row's gradient is divided by $N$.

# %%
N, C = 4, 5
logits = torch.randn(N, C, dtype=torch.float64) * 2
target = torch.tensor([0, 3, 1, 3])


def loss_of(z):
    return F.cross_entropy(z, target)


def central_difference(h):
    """(L(z + h e_rc) - L(z - h e_rc)) / 2h for every logit z_rc."""
    out = torch.zeros_like(logits)
    for row in range(N):
        for col in range(C):
            e = torch.zeros_like(logits)
            e[row, col] = h
            out[row, col] = loss_of(logits + e) - loss_of(logits - e)
    return out / (2 * h)


# 1. the derived formula: (softmax(z) - onehot(t)) / N
formula = (torch.softmax(logits, dim=1) - F.one_hot(target, C)) / N

# 2. PyTorch's autograd
z = logits.clone().requires_grad_(True)
loss_of(z).backward()
autograd = z.grad

# 3. central finite differences, one logit at a time
finite = central_difference(1e-6)

print("softmax(z) - y:\n", formula)
to_autograd = (formula - autograd).abs().max()
to_finite = (formula - finite).abs().max()
print(f"max |formula - autograd|           = {to_autograd:.1e}")
print(f"max |formula - finite differences| = {to_finite:.1e}")

# %% [markdown]
# The formula and autograd agree to the last bits of `float64`; finite differences agree to about
# $10^{-10}$, the accuracy a difference quotient can reach. Each row sums to zero, because the
# softmax and the target both sum to one:

# %%
print("row sums of the gradient:", formula.sum(dim=1))

# %% [markdown]
# The project's kernels compute this gradient without autograd's chain of operations: the NumPy
# backend returns it directly (`cross_entropy_grad`), the PyTorch backend's backward evaluates the
# emitted form $e^{z_k - \operatorname{LSE}(z)} - y_k$ from two saved numbers per row.

# %%
import kernels.numpy as kn
import kernels.torch as kt

numpy_grad = kn.cross_entropy_grad(logits.numpy(), target.numpy())
z = logits.clone().requires_grad_(True)
kt.cross_entropy(z, target).backward()
print(
    "max |formula - kernels.numpy| =",
    np.abs(formula.numpy() - numpy_grad).max(),
)
print("max |formula - kernels.torch| =", (formula - z.grad).abs().max().item())

# %% [markdown]
# ## How accurate can finite differences be?
#
# A central difference has a truncation error of order $h^2$ (the Taylor terms it ignores) and a
# rounding error of order $\varepsilon / h$ (two nearly equal losses subtracted, then divided by a
# small $h$), with $\varepsilon \approx 2.2 \cdot 10^{-16}$ in `float64`. Their sum is smallest near
# $h \approx \varepsilon^{1/3} \approx 6 \cdot 10^{-6}$:

# %%
steps = np.logspace(-12, -1, 45)
errors = [(central_difference(h) - formula).abs().max().item() for h in steps]
loss = loss_of(logits).item()
truncation = errors[-1] * (steps / steps[-1]) ** 2  # fitted at the largest h
rounding = 2.2e-16 * loss / steps  # machine epsilon times |L|, over h
fig, ax = plt.subplots(figsize=(7, 3.6))
ax.loglog(steps, errors, "o-", ms=3, label="max |finite difference - (s-y)/N|")
ax.loglog(
    steps, truncation, ":", color="gray", label="$\\propto h^2$ (truncation)"
)
ax.loglog(
    steps,
    rounding,
    "--",
    color="gray",
    label="$\\varepsilon |L| / h$ (rounding)",
)
ax.set(xlabel="step h", ylabel="error", ylim=(1e-13, 1e-1))
ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## Probability targets, class weights and label smoothing
#
# The same check for the other targets PyTorch accepts. For a probability target $y$ the derived
# gradient is $\operatorname{softmax}(z) \sum_c y_c - y$ per row (the claim `ce.gradient_unnormalised`;
# it is $s - y$ when $y$ sums to one). With class weights $w$ and label smoothing $\varepsilon$ on an
# index target, PyTorch's loss per example is
# $(1 - \varepsilon)\, w_t \ell_t + \frac{\varepsilon}{C} \sum_c w_c \ell_c$ with $\ell = -\log s$, and the
# `"mean"` reduction divides by $\sum_n w_{t_n}$; differentiating gives
# $(1 - \varepsilon)\, w_t (s - e_t) + \frac{\varepsilon}{C}\bigl((\textstyle\sum_c w_c)\, s - w\bigr)$.


# %%
def autograd_of(loss_fn):
    z = logits.clone().requires_grad_(True)
    loss_fn(z).backward()
    return z.grad


s = torch.softmax(logits, dim=1)
probs = torch.softmax(torch.randn(N, C, dtype=torch.float64), dim=1)
prob_formula = (s * probs.sum(dim=1, keepdim=True) - probs) / N
prob_autograd = autograd_of(lambda z: F.cross_entropy(z, probs))

w = torch.rand(C, dtype=torch.float64) + 0.5
eps = 0.1
e_t = F.one_hot(target, C)
per_row = (1 - eps) * w[target, None] * (s - e_t) + eps / C * (w.sum() * s - w)
smooth_formula = per_row / w[target].sum()
smooth_autograd = autograd_of(
    lambda z: F.cross_entropy(z, target, weight=w, label_smoothing=eps)
)

print(
    "probability target:        max |formula - autograd| =",
    f"{(prob_formula - prob_autograd).abs().max():.1e}",
)
print(
    "weights + label smoothing: max |formula - autograd| =",
    f"{(smooth_formula - smooth_autograd).abs().max():.1e}",
)

# %% [markdown]
# Finally PyTorch's own checker, `torch.autograd.gradcheck`, which compares autograd with finite
# differences for every input entry:

# %%
z = logits.clone().requires_grad_(True)
print(
    "gradcheck, index target:        ", torch.autograd.gradcheck(loss_of, (z,))
)
print(
    "gradcheck, weights + smoothing: ",
    torch.autograd.gradcheck(
        lambda z: F.cross_entropy(z, target, weight=w, label_smoothing=eps),
        (z,),
    ),
)
