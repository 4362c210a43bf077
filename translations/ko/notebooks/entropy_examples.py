# translation of docs/notebooks/entropy_examples.py, source 620a704958fe
# %% [markdown]
# # 엔트로피를 숫자로 {#entropy-in-numbers}
#
# [엔트로피](../../entropy/) 페이지의 계산 예제를 `derivations/topics/information.py`에 있는 식(SymPy가
# 검사한 바로 그 식)으로 계산한 다음, PyTorch와 비교합니다. 로그는 자연로그입니다. 엔트로피(entropy)의
# 단위는 내트(nat)이고, $\log 2 \approx 0.693$ 내트가 1비트(bit)입니다.

# %%
import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
import torch

from derivations.engine.symbols import p
from derivations.topics.information import entropy, entropy_of

# %% [markdown]
# ## 계산 예제 {#the-worked-examples}
#
# `entropy_of(values)`는 $0 \log 0 = 0$이라는 규약($x \to 0^+$일 때 $x \log x$의 극한)에 따라
# $H$를 항별로 풀어 씁니다. SymPy는 이것을 정확하게 계산하고, `torch.special.entr`는 같은 규약으로
# $-x \log x$를 원소별로 계산합니다.

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
# 치우친 동전의 정확한 값을 SymPy가 출력하는 그대로 보면 다음과 같습니다:

# %%
entropy_of(examples["biased coin"]).doit()

# %% [markdown]
# `p * log(p)`를 그대로 계산하는 순진한 구현은 확실한 사건에서 틀린 값을 냅니다. $\log 0$은
# $-\infty$이고 $0 \cdot (-\infty)$는 `nan`이기 때문입니다. 극한 규약은 사소한 세부 사항이 아닙니다.

# %%
certain = np.array([1.0, 0.0])
with np.errstate(divide="ignore", invalid="ignore"):
    print("naive -sum p log p:", -(certain * np.log(certain)).sum())
print(
    "torch.special.entr:",
    torch.special.entr(torch.from_numpy(certain)).sum().item(),
)

# %% [markdown]
# ## 동전의 엔트로피 {#the-entropy-of-a-coin}
#
# 확률이 $a$와 $1 - a$인 두 결과에 대해, 일반적인 정의 $H(p) = -\sum_j p_j \log p_j$는
# $n = 2$일 때 *이진 엔트로피*(binary entropy) 함수가 됩니다. 여기서는 유도(derivation)의 식에 값을
# 대입해서 이 함수를 얻은 다음, NumPy 함수로 바꿉니다:

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
# 이 곡선은 양 끝(확실한 결과)에서 극한 규약에 따라 $0$이고, $a = 1/2$를 중심으로
# 대칭이며, 공정한 동전에서 최댓값 $\log 2$ 내트, 즉 1비트에 이릅니다.
#
# ## 무작위 분포로 확인하는 하한과 상한 {#the-bounds-on-random-distributions}
#
# $0 \le H(p) \le \log n$입니다. 하한은 모든 놀라움(surprisal) $\log(1/p_j)$가 음이 아니기 때문이고,
# 상한은 깁스 부등식(Gibbs' inequality) 때문입니다. $n = 5$개의 결과 위의 무작위 분포(distribution) 만 개로
# 확인해 봅니다(디리클레 분포(Dirichlet distribution)에서 뽑은 것으로, 거의 확실한 것도 있고 거의 균등한
# 것도 있습니다):

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
