# translation of docs/notebooks/class_indices.py, source 5499ae10be5d
# %% [markdown]
# # 왜 클래스 인덱스인가? {#why-does-crossentropyloss-take-class-indices}
#
# 어떤 학습자의 모델은 시그모이드(sigmoid)로 끝나며, 예제 하나에 대해 숫자 세 개를 내놓는데 모두 0.5에
# 가깝습니다. 레이블은 클래스(class) 1입니다. 학습자가 이 출력과 `torch.tensor([1])`을 `nn.CrossEntropyLoss`에
# 넘기자 아무 문제 없이 실행됩니다. 클래스 세 개에 대한 손실(loss)이 왜 정수 하나를 타깃(target)으로 받을까요?
# 형태(shape)는 왜 서로 다를까요? 왜 원-핫(one-hot) 벡터가 아닐까요? 그리고 시그모이드를 쓰는 것이 맞을까요?
# 이 페이지에서는 사이트를 빌드할 때 실행한 PyTorch의 실제 출력으로 이 질문들에 하나씩 답합니다.

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
# ## 학습자의 경우 {#the-learners-case}
#
# 0에 가까운 가공하지 않은 점수 세 개가 시그모이드를 거쳐 0.5 근처의 값으로 눌립니다. 형태는 `(1, 3)`으로,
# 행 하나는 예제 하나에 해당하고 열은 클래스마다 하나씩입니다.

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
# ## 형태가 서로 다른 이유 {#why-the-shapes-differ}
#
# 입력의 형태는 $(N, C)$입니다. 예제가 $N$개이고, 예제마다 클래스당 점수가 하나씩 있습니다. 타깃의 형태는
# $(N,)$입니다. 각 예제에서 *어느* 클래스가 정답인지를 $0, \dots, C-1$ 범위의 정수로 나타냅니다. 타깃은
# 클래스에 대한 분포(distribution)를 기술하지 않습니다. 클래스 하나를 지목할 뿐이며, 손실은 그 클래스의 열을
# 찾아 읽습니다.
#
# `CrossEntropyLoss`는 각 행에 대해 $-\log \operatorname{softmax}(x)_t$를 계산하는데, 이는 그 행의
# 로그-합-지수(log-sum-exp)에서 타깃 클래스의 성분을 뺀 값입니다. 아래는 `derivations/`에서 그대로 가져온 이
# 명제(claim)와, SymPy로 검사한 결과입니다:

# %%
claim = claim_by_id("ce.lse_form")
result = check(claim, scopes="general")
print(claim.id, "holds" if result.holds else "FAILS", "for", result.scope)
claim.derivation().statement()

# %% [markdown]
# (유도(derivation)에서는 클래스에 $1, \dots, n$으로 번호를 매기고, PyTorch는 $0, \dots, C-1$로 번호를
# 매깁니다.) 학습자의 행에 대해 양변을 직접 계산하면 PyTorch가 내놓은 숫자가 그대로 나옵니다:

# %%
x, t = outputs[0], target[0]
by_log_softmax = -torch.log_softmax(x, dim=0)[t]
by_lse = torch.logsumexp(x, dim=0) - x[t]
print(f"-log softmax(x)[t] = {by_log_softmax.item():.10f}")
print(f"LSE(x) - x[t]      = {by_lse.item():.10f}")
print(f"CrossEntropyLoss   = {loss.item():.10f}")

# %% [markdown]
# ## 타깃이 [0, C-1] 범위에 있어야 하는 이유 {#why-the-target-lies-in-0-c-1}
#
# 타깃은 행 안의 위치를 가리키는 인덱스이므로, 실제로 있는 열을 가리켜야 합니다. 클래스가 세 개일 때 클래스
# `3`은 존재하지 않으며, PyTorch도 그렇다고 알려 줍니다:

# %%
try:
    nn.CrossEntropyLoss()(outputs, torch.tensor([3]))
except IndexError as err:
    print(f"IndexError: {err}")

# %% [markdown]
# ## 왜 원-핫 벡터가 아닌가? {#why-not-a-one-hot-vector}
#
# 원-핫 타깃 $e_t$는 모든 질량이 클래스 $t$에 몰려 있는 확률 분포입니다. 이 타깃과 모델 분포 사이의 교차
# 엔트로피(cross-entropy)에는 항 하나, 즉 클래스 $t$의 항만 남습니다. 따라서 원-핫 타깃이 담는 정보는 클래스
# 인덱스(class index)가 담는 정보와 정확히 같습니다:

# %%
claim = claim_by_id("ce.one_hot_target")
result = check(claim, scopes="general")
print(claim.id, "holds" if result.holds else "FAILS", "for", result.scope)
claim.derivation().statement()

# %% [markdown]
# PyTorch는 두 종류의 타깃을 형태로 구별합니다. 타깃이 입력과 *같은 형태*이면 클래스 확률로 해석되며, 이때
# 타깃은 부동소수점이어야 합니다. 그래서 float 원-핫 행은 인덱스와 같은 손실을 주지만, 같은 원-핫 행을 정수로
# 넘기면 오류가 납니다:

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
# 인덱스 쪽이 더 나은 선택입니다. 크기가 $C$배 작고, 잘못된 분포를 담을 수가 없으며, PyTorch가 0으로 가득한
# 행 전체를 곱하는 대신 행마다 성분 하나만 골라낼 수 있게 해 줍니다.
#
# ## CrossEntropyLoss 앞의 시그모이드가 버그인 이유 {#why-a-sigmoid-before-crossentropyloss-is-a-bug}
#
# `CrossEntropyLoss`는 **가공하지 않은 로짓**(raw logits)을 입력으로 기대합니다. 로그-소프트맥스(log-softmax)를
# 직접 적용하기 때문입니다. 그 앞에 시그모이드를 두면 모든 점수가 $(0, 1)$ 안으로 눌리므로, 소프트맥스(softmax)에
# 도달하는 점수들은 서로 $1$보다 작은 차이밖에 날 수 없습니다. 여기서 두 가지 결과가 따라 나옵니다.
#
# 첫째, 손실이 결코 작아질 수 없습니다. 완벽하게 확신하는 모델, 즉 시그모이드 출력이 정답 클래스에서 $1$이고
# 나머지 클래스에서 $0$인 모델조차 클래스가 세 개이면 손실이
# $\log(e^1 + 2e^0) - 1 = \log(1 + 2/e) \approx 0.551$입니다. 둘째, 기울기(gradient)에는 시그모이드의
# 도함수(derivative) $\sigma'(z) = \sigma(z)(1 - \sigma(z)) \le 1/4$이 곱해지는데, 이 값은 점수가 커질수록
# 사라집니다. 정답 클래스의 가공하지 않은 점수를 마진(margin) $m$만큼 끌어올리면서 비교해 봅시다:

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
# 가공하지 않은 로짓을 넣으면 마진이 커질수록 손실이 $0$으로 가고, 기울기는 바로 모델이 틀렸을 때(마진이
# 음수일 때) 크며 모델이 맞힌 뒤에야 비로소 잦아듭니다. 시그모이드를 먼저 적용하면 손실은 $0.551$에서 더
# 내려가지 않고, 기울기는 어디서나 작으며 모델이 가장 크게 틀렸을 때는 거의 $0$입니다. 그 구간에서는
# 시그모이드가 포화되어 학습이 멈춥니다. 소프트맥스를 먼저 적용하는 것도 똑같이 나쁩니다. 손실은 서로 많아야
# $1$만큼 차이 나는 확률들에 자기 소프트맥스를 한 번 더 적용하기 때문입니다.
#
# 점수가 0에 가까운 학습자의 경우, 입는 피해는 $\sigma'(0) = 1/4$라는 인수만큼입니다:

# %%
for label, squash in squashes.items():
    z = raw.clone().requires_grad_(True)
    F.cross_entropy(squash(z[0]).unsqueeze(0), target).backward()
    print(f"{label:22s} gradient {z.grad[0]}")

# %% [markdown]
# ## BCEWithLogitsLoss 대 CrossEntropyLoss {#bcewithlogitsloss-versus-crossentropyloss}
#
# 클래스마다 시그모이드를 두는 것은 다른 문제, 즉 **다중 레이블**(multi-label) 분류에 맞는 모델입니다. 다중
# 레이블 분류에서는 각 클래스가 서로 독립적인 예/아니요 질문이고, 여러 클래스가 동시에 참일 수 있습니다. 이것이
# `BCEWithLogitsLoss`입니다. 이 손실은 가공하지 않은 로짓을 받고(시그모이드는 안정한 방식으로 직접 적용합니다),
# 입력과 같은 형태에 클래스마다 $0$ 또는 $1$을 담은 float 타깃을 받습니다.
#
# | | `CrossEntropyLoss` | `BCEWithLogitsLoss` |
# | --- | --- | --- |
# | 질문 | $C$개 클래스 중 어느 하나인가? | 각 클래스가 해당하는가? |
# | 확률 | 소프트맥스: 모든 클래스에 걸쳐 합이 1 | 시그모이드: 클래스마다 독립 |
# | 타깃 | 클래스 인덱스, 형태 $(N,)$ (또는 확률, 형태 $(N, C)$) | 클래스마다 float $0/1$, 형태 $(N, C)$ |
# | 입력 | 가공하지 않은 로짓 | 가공하지 않은 로짓 |

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
# 숫자가 다른 것은 모델이 다르기 때문입니다. `BCEWithLogitsLoss`는 서로 독립적인 동전 세 개를 채점하고,
# `CrossEntropyLoss`는 셋 중 하나를 고르는 선택 하나를 채점합니다. 학습자의 문제(예제마다 정답 클래스가 하나)에서는
# 시그모이드를 없애고 인덱스 타깃은 그대로 두는 것이 해결책입니다:
#
# ```python
# logits = model(x)  # raw scores, shape (N, C): no sigmoid
# # labels: class indices, shape (N,), dtype long
# loss = nn.CrossEntropyLoss()(logits, labels)
# # probabilities only to report them, never into the loss
# probs = torch.softmax(logits, dim=1)
# ```
#
# 학습 초기에 예측이 거의 균등할 때 이 손실은 $\log C$에 가까워야 합니다. 여기서는 $\log 3$입니다:

# %%
print(f"CE(raw, target) = {ce.item():.4f},  log 3 = {np.log(3):.4f}")

# %% [markdown]
# ## 프로젝트의 커널로 본 같은 경우 {#the-same-case-with-the-projects-kernels}
#
# `kernels.torch`는 이 함수들을 그대로 바꿔 끼울 수 있는 대체품으로, 검사를 거친 유도로부터 생성됩니다. 같은
# 손실을 내고, 위의 두 실수에 대해 같은 타입의 예외를 일으키며, 어떻게 고쳐야 하는지도 알려 줍니다:

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
