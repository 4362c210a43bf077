# %% [markdown]
# # Troubleshooting CrossEntropyLoss
#
# `CrossEntropyLoss` fails in two ways. It raises an error, or it runs
# and quietly computes something you did not mean. The second kind is
# worse, because nothing stops you.
#
# `kernels.torch.explain(input, target, ...)` takes the arguments of a
# `cross_entropy` call (the same names and defaults). It reports two things:
#
# - how torch will read them: class indices or class probabilities, the
#   class dimension, $C$, the positions counted, and what `'mean'` divides by;
# - its **findings**, the likely mistakes.
#
# Each finding has a stable `code` and a `severity`. An `error` is a call
# torch rejects. A `warning` is a call torch runs without complaint, but
# probably not as meant. An `info` is a fact about correct usage. Each
# finding also has a `message` that names the fix. `kernels.numpy.explain`
# does the same for arrays.
#
# This page goes through each finding. The output of PyTorch below is real:
# the code ran when the site was built.
#
# | code | severity | what torch does | fix |
# | --- | --- | --- | --- |
# | `probabilities-as-logits` | warning | runs; training barely moves | pass the logits |
# | `one-hot-index-target` | error | `RuntimeError` | `target.argmax(dim=1)` |
# | `target-column` | error | `RuntimeError` | `target.squeeze(1)` |
# | `float-class-indices` | error | `RuntimeError` | `target.long()` |
# | `target-out-of-range` | error | `IndexError` (CUDA: device-side assert) | labels in $0, \dots, C-1$ |
# | `all-ignored` | warning | `'mean'` is `nan` | skip the batch |
# | `probability-target-not-normalised` | warning | runs; not a cross-entropy | normalise the rows |
# | `half-precision-overflow-risk` | warning | `inf` in float16 | compute in float32 |

# %%
import textwrap
import warnings

import torch
import torch.nn.functional as F

import kernels
import kernels.torch as kt

torch.manual_seed(0)
torch.set_printoptions(precision=4, linewidth=76)


def say(text):
    """Print a long line wrapped to the width of the page."""
    print(textwrap.fill(str(text), 79, subsequent_indent="    "))


def torch_says(call):
    """Run a call to torch: print what it returns or the error it raises."""
    try:
        result = call()
    except Exception as err:
        say(f"torch raises {type(err).__name__}: {err}")
    else:
        say(f"torch returns {result}")


# %% [markdown]
# ## The learner's case: sigmoid outputs
#
# This is the case that started the project. A model ends in a sigmoid
# and gives three values near 0.5 for one example. The label is class 1.
# PyTorch accepts the call without an error or a warning:

# %%
raw = torch.tensor([[0.12, -0.05, 0.08]], requires_grad=True)
outputs = torch.sigmoid(raw)  # the model's last step
target = torch.tensor([1])
print(outputs)
torch_says(lambda: F.cross_entropy(outputs, target))

# %% [markdown]
# `explain` finds the sigmoid in the input's autograd history
# (`grad_fn=<SigmoidBackward0>`). It looks through view, reshape and
# copy nodes to find it:

# %%
print(kt.explain(outputs, target))

# %% [markdown]
# The bound in the message comes from the scores. A sigmoid keeps every
# score in $[0, 1]$, so even a perfect prediction has a loss of
# $\log(e + C - 1) - 1$. For $C = 3$ that is $0.551$.
# [Why class indices?](../class_indices/) plots this floor and the
# vanishing gradient. The fix is to pass the logits, the values before
# the sigmoid:

# %%
print(kt.explain(raw, target))

# %% [markdown]
# Try it with the learner's three scores: drag them, switch between
# sigmoid first and raw logits, and watch the target's probability stop
# at 0.576 and the loss at 0.551.
#
# <div class="vce-explorable" data-logits="0.12,-0.05,0.08" data-target="1" data-mode="sigmoid">
# <p>The interactive version needs JavaScript:
# <a href="../../softmax-cross-entropy/#try-it">Softmax cross-entropy</a> shows its numbers as a table.</p>
# </div>

# %% [markdown]
# ## Softmax and log_softmax first
#
# A softmax before the loss does the same harm as a sigmoid. Without an
# autograd history (a detached tensor, or a NumPy array), `explain` goes by
# the values: every row in $[0, 1]$ and summing to 1 is a softmax output.

# %%
logits = torch.randn(4, 5)
labels = torch.tensor([0, 3, 1, 1])
probs = torch.softmax(logits, dim=1)
torch_says(lambda: F.cross_entropy(probs, labels))
say(kt.explain(probs, labels).findings[0].message)

# %% [markdown]
# A `log_softmax` first is redundant, not wrong. `log_softmax` leaves
# log-probabilities unchanged, so the loss is the same. The finding is
# still a warning, because the work is done twice and the usual intent was
# `nll_loss`:

# %%
log_probs = torch.log_softmax(logits, dim=1)
print("on logits:     ", F.cross_entropy(logits, labels).item())
print("on log_softmax:", F.cross_entropy(log_probs, labels).item())
print("nll_loss:      ", F.nll_loss(log_probs, labels).item())
print(kt.explain(log_probs, labels).codes)

# %% [markdown]
# ## one-hot-index-target
#
# A target with the input's shape holds class **probabilities**, and it
# must be floating point. A one-hot target of integers breaks that rule:

# %%
one_hot = F.one_hot(labels, num_classes=5)
torch_says(lambda: F.cross_entropy(logits, one_hot))
print(kt.explain(logits, one_hot))

# %% [markdown]
# The fix is to pass the class indices, `one_hot.argmax(dim=1)` (or
# `one_hot.float()`, which gives the same loss).
#
# ## target-column
#
# A target of shape $(N, 1)$ (one label per row, in a column) is not a
# class-index target. Torch reads it as "multi-target":

# %%
column = labels[:, None]
torch_says(lambda: F.cross_entropy(logits, column))
say(kt.explain(logits, column).findings[0].message)
print("fixed:", kt.explain(logits, column.squeeze(1)).codes)

# %% [markdown]
# ## float-class-indices
#
# Class indices must be `int64` (or `uint8`). Labels that arrive as floats,
# from a CSV file or a NumPy array, are rejected even when they are whole
# numbers:

# %%
float_labels = labels.float()
torch_says(lambda: F.cross_entropy(logits, float_labels))
say(kt.explain(logits, float_labels).findings[0].message)

# %% [markdown]
# ## target-out-of-range
#
# Each class index must lie in $0, \dots, C-1$, unless it equals
# `ignore_index`. Torch names only the first bad value. On CUDA you get
# only `device-side assert triggered`. `explain` lists every offending value
# and guesses the cause. Here the labels look 1-based:

# %%
one_based = torch.tensor([1, 5, 2, 5])
torch_says(lambda: F.cross_entropy(logits, one_based))
report = kt.explain(logits, one_based)
print(report.findings[0].values)
say(report.findings[0].message)

# %% [markdown]
# If `-1` marks padding, the message suggests `ignore_index=-1`:

# %%
padded = torch.tensor([2, -1, 0, -1])
say(kt.explain(logits, padded).findings[0].message)
print(kt.explain(logits, padded, ignore_index=-1))

# %% [markdown]
# ## all-ignored
#
# If every target equals `ignore_index`, nothing is counted. Torch's
# `'mean'` divides 0 by 0 and returns `nan`, which then spreads through
# training:

# %%
all_padding = torch.full((4,), -100)
torch_says(lambda: F.cross_entropy(logits, all_padding))
print(kt.explain(logits, all_padding))

# %% [markdown]
# ## probability-target-not-normalised
#
# Torch accepts any real numbers as class probabilities. Rows that do not
# sum to 1 give a number that is not a cross-entropy. A negative entry
# flips the sign of its term. A common cause is multi-label targets with
# several 1s per row; those belong in `binary_cross_entropy_with_logits`:

# %%
multi_label = torch.tensor([[1.0, 0, 1, 0, 0], [0, 1, 0, 0, 1]] * 2)
torch_says(lambda: F.cross_entropy(logits, multi_label))
say(kt.explain(logits, multi_label).findings[0].message)
scores = torch.rand(4, 5)
say(kt.explain(logits, scores).findings[0].message)
print("fixed:", kt.explain(logits, scores.softmax(dim=1)).codes)

# %% [markdown]
# ## half-precision-overflow-risk
#
# In float16, torch sums the loss in float16, and 65504 is the largest
# float16 value. Label smoothing sums $-\log p$ over every class of every
# position. At $N = 4096$, $C = 10$ that sum is too large, and the mean
# is `inf`. `kernels.torch` sums half-precision inputs in float32:

# %%
x16 = torch.randn(4096, 10).half()
t16 = torch.randint(0, 10, (4096,))
smoothing = {"label_smoothing": 0.1}
torch_says(lambda: F.cross_entropy(x16, t16, **smoothing))
torch_says(lambda: F.cross_entropy(x16.float(), t16, **smoothing))
print("kernels.torch:", kt.cross_entropy(x16, t16, **smoothing))
say(kt.explain(x16, t16, **smoothing).findings[0].message)

# %% [markdown]
# The denominator of `'mean'` can overflow too. Past 65504 counted
# positions, it becomes `inf` in float16, and torch's mean becomes 0:

# %%
x_big = torch.randn(70000, 2).half()
t_big = torch.randint(0, 2, (70000,))
torch_says(lambda: F.cross_entropy(x_big, t_big))
torch_says(lambda: F.cross_entropy(x_big.float(), t_big))
print(kt.explain(x_big, t_big).codes)

# %% [markdown]
# ## Everything else torch rejects
#
# Every other argument torch rejects is reported too. Each one is an
# `error` finding that carries torch's exception type, and `explain`
# itself never raises on it. It raises only when an argument is not a
# tensor at all (a `TypeError`).

# %%
x = torch.randn(4, 5)
bad_calls = {
    "reduction='avg'": dict(reduction="avg"),
    "weight of length 6": dict(weight=torch.ones(6)),
    "float64 weight": dict(weight=torch.ones(5, dtype=torch.float64)),
    "label_smoothing=1.5": dict(label_smoothing=1.5),
    "ignore_index=1.5": dict(ignore_index=1.5),
}
for name, options in bad_calls.items():
    found = kt.explain(x, labels, **options).errors[0]
    print(f"{name:20s} {found.raises:13s} {found.code}")
for name, t in {
    "target (5,) for N=4": torch.tensor([0, 1, 2, 3, 4]),
    "int32 indices": labels.int(),
}.items():
    found = kt.explain(x, t).errors[0]
    print(f"{name:20s} {found.raises:13s} {found.code}")

# %% [markdown]
# ## Warnings while training
#
# `explain` is for one call you are looking at. To check every call of a
# training loop, turn on the warning mode. Each `warning` finding is then
# emitted as a `kernels.MisuseWarning` from `cross_entropy` (and from
# `CrossEntropyLoss`), pointing at your line. An error still raises torch's
# own exception.
#
# `with kt.warn_on_misuse():` turns the mode on for a block.
# `kt.warn_on_misuse()` turns it on for the whole process, and
# `kt.warn_on_misuse(False)` turns it off. `kernels.numpy` has the same
# switch. When the mode is off, which is the default, it costs one boolean
# test per call.

# %%
loss_fn = kt.CrossEntropyLoss()
with warnings.catch_warnings(record=True) as caught, kt.warn_on_misuse():
    warnings.simplefilter("always")
    loss_fn(outputs, target)  # the learner's sigmoid outputs
    loss_fn(raw, target)  # the logits: no warning
for w in caught:
    say(f"{w.category.__name__}: {w.message}")
assert all(issubclass(w.category, kernels.MisuseWarning) for w in caught)

# %% [markdown]
# ## What explain cannot see
#
# - **Sigmoid outputs without a history.** A detached tensor or an array
#   whose values all lie in $(0, 1)$ looks like sigmoid output. `explain`
#   warns only from 32 values up, with careful wording. Below that, raw
#   logits land in $(0, 1)$ by chance too often. The learner's detached
#   $(1, 3)$ outputs therefore pass unnoticed.
# - **Arithmetic after the squashing function.** The history walk goes
#   through view, reshape, slice, transpose and dtype-copy nodes only. So
#   `torch.sigmoid(x) * 2` hides the sigmoid.
# - **Cost.** `explain` copies the values to the CPU and makes a few passes
#   over them. It also runs one `cross_entropy` forward as a last check.
#   The warning mode skips that forward, but it still costs a pass over the
#   data per call. Use it while debugging, not for a long training run.

# %%
detached = torch.sigmoid(torch.randn(1, 3))
print("detached (1, 3):", kt.explain(detached, target).codes)
hidden = torch.sigmoid(raw) * 2
print("sigmoid(x) * 2: ", kt.explain(hidden, target).codes)
