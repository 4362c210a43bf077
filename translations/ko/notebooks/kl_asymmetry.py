# translation of docs/notebooks/kl_asymmetry.py, source 2193049fe616
# %% [markdown]
# # KL 발산은 대칭이 아니다 {#kl-divergence-is-not-symmetric}
#
# $D_{\mathrm{KL}}(p \,\|\, q) = \sum_j p_j \log(p_j / q_j)$는 각 로그 비율(log-ratio)에 결과가 나오는
# 분포(distribution)인 $p$로 가중치를 줍니다. 인수를 맞바꾸면 가중치가 바뀌므로, 일반적으로
# $D_{\mathrm{KL}}(p \,\|\, q) \ne D_{\mathrm{KL}}(q \,\|\, p)$입니다. 아래의 발산은 명제(claim)
# `information.kl_divergence`의 식을 NumPy 함수로 바꾼 것이며, PyTorch의
# `F.kl_div`도 같은 숫자를 줍니다.

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
# ## 동전 두 개 {#two-coins}
#
# $p = (a, 1 - a)$, $q = (b, 1 - b)$라고 두겠습니다. $n = 2$이면 일반적인 식들은
# $a$와 $b$의 함수가 됩니다:

# %%
a, b = sp.symbols("a b", positive=True)
coins = {p[1]: a, p[2]: 1 - a, q[1]: b, q[2]: 1 - b}
kl_coins = kl_divergence(p, q, 2).doit().subs(coins)
kl_coins

# %% [markdown]
# 분해 $H(p, q) = D_{\mathrm{KL}}(p \,\|\, q) + H(p)$는 이 두 동전에 대해서도 성립하며, 이 특수한
# 경우에 대해서는 SymPy가 확인해 줍니다:

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
# 두 곡선은 모두 $q = p$에서만 $0$이고(깁스 부등식이며, 등호는 정확히 그곳에서 성립합니다) 다른
# 곳에서는 양수이지만, 서로 다른 곡선입니다. $D_{\mathrm{KL}}(p \,\|\, q)$는 $b \to 0$일 때 한없이
# 커집니다. $p$는 첫 번째 결과에 확률 $0.2$를 주는데, 이 결과를 거의 불가능하다고 보는 모델은
# $0.2 \log(0.2 / b)$를 한없이 치러야 합니다. 반대 방향은 $q$로 가중치를 주는데, 이 분포는 그때
# 그 결과를 거의 찾지 않으므로 값이 적당한 수준에 머뭅니다.
#
# PyTorch의 `F.kl_div(input=log q, target=p, reduction="sum")`로 한 점을 숫자로 확인해 봅니다:

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
# ## 봉우리 둘에 봉우리 하나 맞추기 {#fitting-one-bump-to-two}
#
# 이 비대칭성이 맞춘 모델의 모습을 결정합니다. 서로 떨어진 모드(mode) 두 개를 가진 타깃(target) $p$를
# 잡고, (결과 200개로 이루어진 격자 위에서) 가우스 모양의 $q$ 하나를 각 방향을 최소화하여 맞춰 봅니다:
#
# - 분류에서 사용하는 교차 엔트로피(cross-entropy) 방향인 $D_{\mathrm{KL}}(p \,\|\, q)$를 최소화하면,
#   $q$는 $p$가 만들어 내는 *모든* 결과를 덮어야 합니다. 그래서 두 모드에 걸쳐 퍼집니다.
# - $D_{\mathrm{KL}}(q \,\|\, p)$를 최소화하면, $p$에 질량이 없는 곳에 질량을 두지만 않는다면 $q$는
#   결과를 무시해도 됩니다. 그래서 한 모드에 달라붙습니다.

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
# 분류는 교차 엔트로피 $H(p, q)$를 최소화하는데, 이것은 $D_{\mathrm{KL}}(p \,\|\, q)$와 상수 $H(p)$만큼만
# 다릅니다. 즉 *덮는* 방향입니다. 교차 엔트로피로 학습한 분류기는 실제로 나타나는 모든 클래스(class)에
# 적당한 확률을 주도록 떠밀립니다. 확신에 찬 빗나감은 한없이 큰 비용을 치르기 때문입니다.
