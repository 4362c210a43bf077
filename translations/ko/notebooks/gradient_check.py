# translation of docs/notebooks/gradient_check.py, source f1fc666f428a
# %% [markdown]
# # 기울기 확인하기 {#checking-the-gradient}
#
# [소프트맥스 교차 엔트로피](../../softmax-cross-entropy/) 페이지에서는 로짓(logit)에 대한 손실(loss)의
# 기울기(gradient) $\partial L / \partial z_k = \operatorname{softmax}_k(z) - y_k$를 유도합니다. 여기서는
# 실제 숫자를 넣어 이 식을 서로 독립적인 두 증인과 대조합니다. 하나는 공식에 대해 아무것도 모르는 유한
# 차분이고, 다른 하나는 자기 구현을 한 단계씩 미분하는 PyTorch의 autograd입니다.

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
# ## 하나의 손실, 세 가지 기울기 {#three-gradients-of-one-loss}
#
# 클래스가 $C = 5$개인 예제 $N = 4$개로 이루어진 배치(batch)를 `float64`로 준비합니다. 축소(reduction)가
# `"mean"`이면 손실은 배치에 대한 평균이므로, 각 행의 기울기는 $N$으로 나뉩니다.

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
# 공식과 autograd는 `float64`의 마지막 비트까지 일치하고, 유한 차분은 차분 몫이 도달할 수 있는 정확도인
# 약 $10^{-10}$까지 일치합니다. 소프트맥스(softmax)와 타깃(target)의 합이 모두 1이므로, 각 행의 합은
# 0입니다:

# %%
print("row sums of the gradient:", formula.sum(dim=1))

# %% [markdown]
# 이 프로젝트의 커널(kernel)은 autograd처럼 연산을 연쇄적으로 거치지 않고 이 기울기를 계산합니다. NumPy
# 백엔드는 기울기를 직접 반환하고(`cross_entropy_grad`), PyTorch 백엔드의 역전파(backward pass)는 행마다
# 저장해 둔 두 숫자로부터 생성된 형태 $e^{z_k - \operatorname{LSE}(z)} - y_k$를 계산합니다.

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
# ## 유한 차분은 얼마나 정확할 수 있을까요? {#how-accurate-can-finite-differences-be}
#
# 중심 차분에는 $h^2$ 차수의 절단 오차(무시한 테일러 항)와 $\varepsilon / h$ 차수의 반올림 오차(거의 같은
# 두 손실을 뺀 뒤 작은 $h$로 나눈 탓)가 있으며, `float64`에서는 $\varepsilon \approx 2.2 \cdot 10^{-16}$입니다.
# 두 오차의 합은 $h \approx \varepsilon^{1/3} \approx 6 \cdot 10^{-6}$ 근처에서 가장 작습니다:

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
# ## 확률 타깃, 클래스 가중치, 레이블 스무딩 {#probability-targets-class-weights-and-label-smoothing}
#
# PyTorch가 받아들이는 다른 타깃들에 대해서도 같은 검사를 합니다. 확률 타깃 $y$의 경우 유도된 기울기는
# 행마다 $\operatorname{softmax}(z) \sum_c y_c - y$입니다(명제(claim) `ce.gradient_unnormalised`이며,
# $y$의 합이 1이면 $s - y$가 됩니다). 인덱스 타깃에 클래스 가중치(class weight) $w$와 레이블
# 스무딩(label smoothing) $\varepsilon$을 적용하면, PyTorch의 예제별 손실은 $\ell = -\log s$라 할 때
# $(1 - \varepsilon)\, w_t \ell_t + \frac{\varepsilon}{C} \sum_c w_c \ell_c$이고,
# `"mean"` 축소는 $\sum_n w_{t_n}$으로 나눕니다. 이를 미분하면
# $(1 - \varepsilon)\, w_t (s - e_t) + \frac{\varepsilon}{C}\bigl((\textstyle\sum_c w_c)\, s - w\bigr)$를 얻습니다.


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
# 마지막으로 PyTorch 자체 검사 도구인 `torch.autograd.gradcheck`를 실행합니다. 이 도구는 입력의 모든
# 성분에 대해 autograd를 유한 차분과 비교합니다:

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
