# %% [markdown]
# # Why does CrossEntropyLoss take class indices?
#
# A learner's model ends in a sigmoid and produces three numbers for one example, all close to 0.5.
# The label is class 1. They pass the outputs and `torch.tensor([1])` to `nn.CrossEntropyLoss`, and it
# runs. Why does a loss over three classes accept a single integer as the target? Why are the shapes
# different? Why not a one-hot vector? And is the sigmoid right? This page answers each question with
# the real output of PyTorch, executed when the site was built.

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from derivations import check, claim_by_id

torch.manual_seed(0)
torch.set_printoptions(precision=4, linewidth=76)

# %% [markdown]
# ## The learner's case
#
# Three raw scores near zero, squashed by a sigmoid into values around 0.5: the shape is `(1, 3)`,
# one row for the one example, one column per class.

# %%
raw = torch.tensor(
    [[0.12, -0.05, 0.08]]
)  # what the last linear layer produced
outputs = torch.sigmoid(raw)  # what the learner's model returns
target = torch.tensor([1])  # "the right class is class 1"

loss = nn.CrossEntropyLoss()(outputs, target)
print("outputs:", outputs, tuple(outputs.shape))
print("target: ", target, tuple(target.shape), target.dtype)
print("loss:   ", loss)

# %% [markdown]
# ## Why the shapes differ
#
# The input has shape $(N, C)$: $N$ examples, one score per class. The target has shape $(N,)$:
# for each example, *which* class is right, as an integer in $0, \dots, C-1$. The target does not
# describe a distribution over classes; it names one class, and the loss looks up that class's column.
#
# `CrossEntropyLoss` computes $-\log \operatorname{softmax}(x)_t$ for each row, which is the
# log-sum-exp of the row minus the entry of the target class. Here is that claim, straight from
# `derivations/`, with the result of SymPy's check:

# %%
claim = claim_by_id("ce.lse_form")
result = check(claim, scopes="general")
print(claim.id, "holds" if result.holds else "FAILS", "for", result.scope)
claim.derivation().statement()

# %% [markdown]
# (The derivations number classes $1, \dots, n$; PyTorch numbers them $0, \dots, C-1$.) Computing
# both sides by hand for the learner's row gives PyTorch's number:

# %%
x, t = outputs[0], target[0]
by_log_softmax = -torch.log_softmax(x, dim=0)[t]
by_lse = torch.logsumexp(x, dim=0) - x[t]
print(f"-log softmax(x)[t] = {by_log_softmax.item():.10f}")
print(f"LSE(x) - x[t]      = {by_lse.item():.10f}")
print(f"CrossEntropyLoss   = {loss.item():.10f}")

# %% [markdown]
# ## Why the target lies in [0, C-1]
#
# The target is an index into the row, so it must name an existing column. Class `3` does not exist
# when there are three classes, and PyTorch says so:

# %%
try:
    nn.CrossEntropyLoss()(outputs, torch.tensor([3]))
except IndexError as err:
    print(f"IndexError: {err}")

# %% [markdown]
# ## Why not a one-hot vector?
#
# A one-hot target $e_t$ is a probability distribution with all its mass on class $t$. Its
# cross-entropy with the model's distribution keeps one term, the one of class $t$, so it carries
# exactly the information of the index:

# %%
claim = claim_by_id("ce.one_hot_target")
result = check(claim, scopes="general")
print(claim.id, "holds" if result.holds else "FAILS", "for", result.scope)
claim.derivation().statement()

# %% [markdown]
# PyTorch tells the two kinds of target apart by shape. When the target has the *same shape* as the
# input, it is read as class probabilities, and it must be floating point. A float one-hot row
# therefore gives the same loss as the index; the same one-hot row as integers is an error:

# %%
one_hot = F.one_hot(target, num_classes=3)
print("one-hot:", one_hot, one_hot.dtype)
print(
    "float one-hot target:",
    nn.CrossEntropyLoss()(outputs, one_hot.float()).item(),
)
print("index target:        ", loss.item())
try:
    nn.CrossEntropyLoss()(outputs, one_hot)
except RuntimeError as err:
    print(f"long one-hot target: RuntimeError: {err}")

# %% [markdown]
# The index is the better choice: it is $C$ times smaller, it cannot hold an invalid distribution,
# and it lets PyTorch pick one entry per row instead of multiplying a whole row of zeros.
#
# ## Why a sigmoid before CrossEntropyLoss is a bug
#
# `CrossEntropyLoss` expects **raw logits**: it applies the log-softmax itself. A sigmoid in front
# squashes every score into $(0, 1)$, so the scores that reach the softmax can differ by less than
# $1$. Two things follow.
#
# First, the loss can never become small. Even a perfectly confident model, whose sigmoid outputs
# are $1$ for the right class and $0$ for the others, has a loss of
# $\log(e^1 + 2e^0) - 1 = \log(1 + 2/e) \approx 0.551$ with three classes. Second, the gradient is
# multiplied by the sigmoid's slope $\sigma'(z) = \sigma(z)(1 - \sigma(z)) \le 1/4$, which vanishes as
# the score grows. Push the right class's raw score up by a margin $m$ and compare:

# %%
margins = torch.linspace(-4.0, 8.0, 241)


def loss_and_gradient(squash, margin):
    """CE of squash(z) for z = (0, m, 0), target 1; and dL/dz_1."""
    z = torch.zeros(3)
    z[1] = margin
    z.requires_grad_(True)
    value = F.cross_entropy(squash(z).unsqueeze(0), target)
    value.backward()
    return value.item(), z.grad[1].item()


squashes = {
    "raw logits (correct)": lambda z: z,
    "sigmoid first (bug)": torch.sigmoid,
    "softmax first (bug)": lambda z: torch.softmax(z, dim=0),
}
fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(10, 3.6))
for label, squash in squashes.items():
    values = np.array([loss_and_gradient(squash, m) for m in margins])
    ax_loss.plot(margins, values[:, 0], label=label)
    ax_grad.plot(margins, values[:, 1], label=label)
ax_loss.axhline(np.log(1 + 2 / np.e), color="gray", ls=":", lw=1)
ax_loss.set(xlabel="margin m of the right class", ylabel="loss", title="loss")
ax_grad.set(
    xlabel="margin m of the right class",
    ylabel="dL/dz (right class)",
    title="gradient",
)
ax_loss.legend()
fig.tight_layout()

# %% [markdown]
# With raw logits the loss goes to $0$ as the margin grows, and the gradient is large exactly when
# the model is wrong (negative margin) and fades only once it is right. With a sigmoid first, the
# loss stalls at $0.551$, and the gradient is small everywhere and nearly $0$ when the model is most
# wrong: the sigmoid is saturated there, and learning stops. A softmax first is just as bad, since the
# loss applies its own softmax to probabilities that differ by at most $1$.
#
# For the learner's case, with scores near zero, the damage is the factor $\sigma'(0) = 1/4$:

# %%
for label, squash in squashes.items():
    z = raw.clone().requires_grad_(True)
    F.cross_entropy(squash(z[0]).unsqueeze(0), target).backward()
    print(f"{label:22s} gradient {z.grad[0]}")

# %% [markdown]
# ## BCEWithLogitsLoss versus CrossEntropyLoss
#
# A sigmoid per class is the right model for a different problem: **multi-label** classification,
# where each class is an independent yes/no question and several can be true at once. That is
# `BCEWithLogitsLoss`: it takes the raw logits (it applies the sigmoid itself, stably), and a float
# target of the same shape with a $0$ or $1$ per class.
#
# | | `CrossEntropyLoss` | `BCEWithLogitsLoss` |
# | --- | --- | --- |
# | question | which one of $C$ classes? | is each class present? |
# | probabilities | softmax: sum to 1 across classes | sigmoid: independent per class |
# | target | class index, shape $(N,)$ (or probabilities, shape $(N, C)$) | float $0/1$ per class, shape $(N, C)$ |
# | input | raw logits | raw logits |

# %%
multi_label = one_hot.float()
bce = nn.BCEWithLogitsLoss()(raw, multi_label)
by_hand = -(
    multi_label * F.logsigmoid(raw) + (1 - multi_label) * F.logsigmoid(-raw)
).mean()
ce = F.cross_entropy(raw, target)
print(f"BCEWithLogitsLoss(raw, one-hot) = {bce.item():.6f}")
print(f"  the same by hand              = {by_hand.item():.6f}")
print(f"CrossEntropyLoss(raw, index)    = {ce.item():.6f}")

# %% [markdown]
# The numbers differ because the models differ: `BCEWithLogitsLoss` scores three independent coins,
# `CrossEntropyLoss` one choice among three. For the learner's problem (one right class per example)
# the fix is to drop the sigmoid and keep the index target:
#
# ```python
# logits = model(x)  # raw scores, shape (N, C): no sigmoid
# # labels: class indices, shape (N,), dtype long
# loss = nn.CrossEntropyLoss()(logits, labels)
# # probabilities only to report them, never into the loss
# probs = torch.softmax(logits, dim=1)
# ```
#
# At the start of training, with near-uniform predictions, this loss should be close to
# $\log C$; here $\log 3$:

# %%
print(f"CE(raw, target) = {ce.item():.4f},  log 3 = {np.log(3):.4f}")

# %% [markdown]
# ## The same case with the project's kernels
#
# `kernels.torch` is a drop-in for these functions, generated from the checked derivations. It
# gives the same loss, raises the same exception types for the two mistakes above, and says how
# to fix them:

# %%
import textwrap

import kernels.torch as kt

print(
    "kernels.torch.CrossEntropyLoss:",
    kt.CrossEntropyLoss()(outputs, target).item(),
)
print("torch.nn.CrossEntropyLoss:     ", loss.item())
for bad in (torch.tensor([3]), one_hot):
    try:
        kt.cross_entropy(outputs, bad)
    except (IndexError, RuntimeError) as err:
        print(textwrap.fill(f"{type(err).__name__}: {err}", 76))
