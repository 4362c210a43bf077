# %% [markdown]
# # Inside the emitter
#
# [How the kernels are made](../../kernels/) describes the path from a checked expression to
# `kernels/_generated/`. This notebook walks it with the real code of `derivations/`: the table of
# kernel expressions, the strict printers, one emitted function, the banner, the overflow-freedom
# check refusing the textbook softmax, and the drift check.

# %%
import textwrap
from collections import Counter

import sympy as sp

from derivations.emission import claims, emit, kernels, render
from derivations.emission.kernel import D, M, Z
from derivations.emission.overflow import OverflowRisk, require_overflow_free
from derivations.emission.printers import PRINTERS, UnprintableKernel

table = kernels()
families = dict(Counter(k.family for k in table))
print(f"{len(table)} kernel expressions, by family: {families}")
for k in table[:6]:
    print(f"  {k.name:18s} checked by {k.claim}")

# %% [markdown]
# ## One expression, two printers
#
# The index-target loss, as SymPy holds it: the class weight times the gap to the row maximum plus
# the log of the row sum (grouped so that both nonnegative parts are added first):

# %%
kernel = next(k for k in table if k.name == "ce_index_loss")
kernel.expr

# %% [markdown]
# The same expression printed by the two strict printers, and the whole emitted PyTorch function with
# its docstring: the SymPy expression, the claim that proves it and the file that holds that claim, and
# what each argument stands for:

# %%
for backend, printer in PRINTERS.items():
    print(f"{backend:6s}", printer().doprint(kernel.expr))
print()
source = next(c.source for c in claims() if c.id == kernel.claim)
print(render.render_function(kernel, PRINTERS["torch"](), source))

# %% [markdown]
# The printers refuse what has no elementwise meaning. A Kronecker delta would mean building a
# one-hot vector, which the kernels never do:

# %%
k, t = sp.symbols("k t", integer=True)
try:
    PRINTERS["torch"]().doprint(sp.exp(Z - M) / D - sp.KroneckerDelta(k, t))
except UnprintableKernel as err:
    print(textwrap.fill(f"UnprintableKernel: {err}", 76))

# %% [markdown]
# ## The banner
#
# The first line of every generated file:

# %%
files = sorted(emit.GENERATED.glob("*.py"))
first_lines = {
    p.name: p.read_text(encoding="utf-8").splitlines()[0] for p in files
}
print(textwrap.fill(first_lines["torch_ce.py"], 76))
banners = all(
    line.startswith(emit.BANNER_PREFIX) for line in first_lines.values()
)
print(f"\nall {len(files)} files start with the banner: {banners}")

# %% [markdown]
# ## The overflow-freedom check
#
# Before anything is printed, every $e^{a}$ must have an argument that SymPy can show to be
# $\le 0$, with each logit written as $m - \delta$ ($\delta \ge 0$, $m$ the row maximum) and the row
# sum as $d = 1 + \delta'$. The stable softmax passes; the textbook one is refused:

# %%
require_overflow_free("stable_softmax", sp.exp(Z - M) / D)
print("exp(z - m) / d: accepted")
try:
    require_overflow_free("textbook_softmax", sp.exp(Z) / D)
except OverflowRisk as err:
    print(textwrap.fill(f"OverflowRisk: {err}", 76))

# %% [markdown]
# ## The drift check
#
# `python -m derivations emit --check` renders every file afresh and compares it, byte for byte, with
# what is committed in `kernels/_generated/`. The same comparison, run here while the site was built:

# %%
fresh = render.render()
diff = emit.compare(fresh)
print(
    f"{len(fresh)} files rendered;",
    "no drift" if not diff else f"DRIFT:\n{diff}",
)
