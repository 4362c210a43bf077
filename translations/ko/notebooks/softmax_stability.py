# translation of docs/notebooks/softmax_stability.py, source 44795ce002ac
# %% [markdown]
# # 오버플로, 그리고 안정성 {#overflow-then-stability}
#
# 소프트맥스(softmax)와 로그-합-지수(log-sum-exp, LSE)는 교과서에서 각각 한 줄짜리 식이지만, 그 한 줄은
# 컴퓨터에서 실패합니다. 이 노트북에서는 `float32`로 로짓(logit) $[123, 456, 789]$에 교과서 버전을
# 실행해 실패하는 모습을 확인한 다음, 명제(claim) `softmax.max_shift`에서 유도한 안정한 버전을
# 실행합니다: 모든 실수 $m$에 대해 $\operatorname{LSE}(z) = m + \log \sum_j e^{z_j - m}$입니다.

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
# ## 교과서 버전 (견고하지 않음) {#the-textbook-version-not-robust}
#
# $e^{123}$은 약 $2.6 \cdot 10^{53}$으로, 가장 큰 `float32` 값인 약 $3.4 \cdot 10^{38}$을 훨씬
# 넘어섭니다. 모든 지수가 `inf`로 오버플로(overflow)하고, 소프트맥스는 `inf / inf = nan`이 되며,
# 손실(loss)은 `inf`가 됩니다:

# %%
exps = torch.exp(logits)
naive_softmax = exps / exps.sum()
naive_lse = torch.log(exps.sum())
print("exp(z):         ", exps)
print("naive softmax:  ", naive_softmax)
print("naive LSE:      ", naive_lse)
print("naive CE(z, 0): ", naive_lse - logits[target])

# %% [markdown]
# ## 안정한 버전 {#the-stable-version}
#
# 계산을 안전하게 만드는 유도(derivation)를 `derivations/topics/softmax.py`에서 그대로 가져와, 로짓
# 세 개에 대해 보입니다:

# %%
derivation = claim_by_id("softmax.max_shift").build(3)
textbook, stable = (
    derivation.steps[0].expr.doit(),
    derivation.steps[-1].expr.doit(),
)
sp.Eq(textbook, stable, evaluate=False)

# %% [markdown]
# 양변을 세 로짓과 $m$을 받는 `float32` NumPy 함수로 바꿉니다. $m = \max_j z_j = 789$로 두면
# 모든 지수 $z_j - m$이 $0$ 이하가 됩니다. 각 항은 $e^{-666}$, $e^{-333}$(둘 다 `float32`에서
# $0$이 되지만 아무 문제가 없습니다), 그리고 $e^0 = 1$입니다.

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
# PyTorch가 계산하는 것이 정확히 이것입니다. PyTorch의 소프트맥스, 로그-합-지수, 교차
# 엔트로피(cross-entropy)는 모두 유한하며, 손실은 $\operatorname{LSE}(z) - z_0 = 789 - 123 = 666$입니다:

# %%
print("torch.softmax:     ", torch.softmax(logits, dim=0))
print("torch.logsumexp:   ", torch.logsumexp(logits, dim=0))
print("F.cross_entropy:   ", F.cross_entropy(logits, target))
print("stable LSE - z[0]: ", torch.logsumexp(logits, dim=0) - logits[target])

# %% [markdown]
# 안정한 형태에서 생성된 이 프로젝트의 커널(kernel)도 두 백엔드 모두에서 같은 값을 냅니다:

# %%
import kernels.numpy as kn
import kernels.torch as kt

print("kernels.torch.cross_entropy:", kt.cross_entropy(logits, target))
print("kernels.numpy.cross_entropy:", kn.cross_entropy(z32, np.int64(0)))

# %% [markdown]
# ## 교과서 버전이 무너지는 곳 {#where-the-textbook-version-breaks}
#
# 세 로짓 $(x, x - 1, x - 2)$를 실수 직선을 따라 옮겨 가며, `float32`로 두 가지 방식 모두 로그-합-지수를
# 계산합니다. 정확한 값은 $x + \log(1 + e^{-1} + e^{-2})$입니다. 교과서 형태는 $x \approx 88.7$보다
# 크면 `inf`로 오버플로하고, $x \approx -104$보다 작으면 $\log 0 = -\infty$로 언더플로(underflow)합니다.
# 안정한 형태는 모든 구간에서 올바른 값을 냅니다.

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
# 안전한 범위 안에서는 두 형태가 `float32` 정밀도까지 일치합니다(오차는
# $2^{-24} \approx 6 \cdot 10^{-8}$ 수준입니다). 다만 범위의 아래쪽 가장자리에서는 교과서 형태의 항들이
# 유효 숫자가 몇 자리 남지 않은 비정규 수(subnormal number)가 되어 예외입니다. 범위 밖에서는 안정한 형태만
# 답을 냅니다. 이 프로젝트의 커널이 이동한 형태만 코드로 생성하고, 커널 생성기가 인수가 $\le 0$임을 증명할
# 수 없는 $e^{a}$를 모두 거부하는 이유가 바로 이것입니다.
