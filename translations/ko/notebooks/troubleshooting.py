# translation of docs/notebooks/troubleshooting.py, source 3e11652c6644
# %% [markdown]
# # 문제 해결 {#troubleshooting-crossentropyloss}
#
# `CrossEntropyLoss`가 잘못되는 방식은 두 가지입니다. 오류를 일으키거나, 아니면 실행은 되지만
# 의도하지 않은 것을 조용히 계산합니다. 두 번째가 더 나쁩니다. 아무것도 여러분을 막아 주지 않기 때문입니다.
#
# `kernels.torch.explain(input, target, ...)`은 `cross_entropy` 호출의 인수를 (같은 이름과 기본값으로)
# 받습니다. 그리고 두 가지를 알려 줍니다.
#
# - torch가 그 인수를 어떻게 읽을지: 클래스 인덱스(class index)인지 클래스 확률인지, 클래스 차원,
#   $C$, 세어지는 위치들, 그리고 `'mean'`이 무엇으로 나누는지;
# - **발견 사항**(finding), 즉 실수일 가능성이 높은 것들.
#
# 각 발견 사항에는 바뀌지 않는 `code`와 `severity`가 있습니다. `error`는 torch가 거부하는 호출입니다.
# `warning`은 torch가 아무 불평 없이 실행하지만 아마 의도와는 다르게 쓰인 호출입니다. `info`는 올바른
# 사용법에 관한 사실입니다. 각 발견 사항에는 고치는 방법을 알려 주는 `message`도 있습니다.
# `kernels.numpy.explain`은 배열에 대해 같은 일을 합니다.
#
# 이 페이지에서는 발견 사항을 하나씩 살펴봅니다. 아래의 PyTorch 출력은 실제 출력입니다.
# 사이트를 빌드할 때 코드가 실행되었습니다.
#
# | 코드 | 심각도 | torch가 하는 일 | 해결 방법 |
# | --- | --- | --- | --- |
# | `probabilities-as-logits` | warning | 실행됨; 학습이 거의 진척되지 않음 | 로짓(logit)을 넘김 |
# | `one-hot-index-target` | error | `RuntimeError` | `target.argmax(dim=1)` |
# | `target-column` | error | `RuntimeError` | `target.squeeze(1)` |
# | `float-class-indices` | error | `RuntimeError` | `target.long()` |
# | `target-out-of-range` | error | `IndexError` (CUDA: 장치 측 assert) | 레이블을 $0, \dots, C-1$ 안으로 |
# | `all-ignored` | warning | `'mean'`이 `nan` | 그 배치(batch)를 건너뜀 |
# | `probability-target-not-normalised` | warning | 실행됨; 교차 엔트로피(cross-entropy)가 아님 | 행을 정규화 |
# | `half-precision-overflow-risk` | warning | float16에서 `inf` | float32로 계산 |

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
# ## 학습자의 경우: 시그모이드 출력 {#the-learners-case-sigmoid-outputs}
#
# 이 프로젝트를 시작하게 만든 경우입니다. 어떤 모델이 시그모이드(sigmoid)로 끝나며, 예제 하나에 대해
# 0.5에 가까운 값 세 개를 내놓습니다. 레이블은 클래스 1입니다.
# PyTorch는 오류도 경고도 없이 이 호출을 받아들입니다.

# %%
raw = torch.tensor([[0.12, -0.05, 0.08]], requires_grad=True)
outputs = torch.sigmoid(raw)  # the model's last step
target = torch.tensor([1])
print(outputs)
torch_says(lambda: F.cross_entropy(outputs, target))

# %% [markdown]
# `explain`은 입력의 autograd 이력(`grad_fn=<SigmoidBackward0>`)에서 시그모이드를 찾아냅니다.
# 이때 view, reshape, copy 노드는 지나쳐서 그 너머를 살핍니다.

# %%
print(kt.explain(outputs, target))

# %% [markdown]
# 메시지에 나오는 하한은 점수에서 나옵니다. 시그모이드는 모든 점수를 $[0, 1]$ 안에 묶어 두므로,
# 완벽한 예측이라도 손실(loss)이 $\log(e + C - 1) - 1$입니다. $C = 3$이면 그 값은 $0.551$입니다.
# [왜 클래스 인덱스인가?](../class_indices/)에서 이 바닥값과 사라지는 기울기(gradient)를 그래프로
# 보여 줍니다. 해결 방법은 로짓, 즉 시그모이드를 거치기 전의 값을 넘기는 것입니다.

# %%
print(kt.explain(raw, target))

# %% [markdown]
# 학습자의 세 점수로 직접 해 보세요. 점수를 끌어 옮기고, 시그모이드를 먼저 거치는 경우와 가공하지 않은
# 로짓을 번갈아 선택해 보면서, 타깃(target)의 확률이 0.576에서, 손실이 0.551에서 멈추는 것을 지켜보세요.
#
# <div class="vce-explorable" data-logits="0.12,-0.05,0.08" data-target="1" data-mode="sigmoid">
# <p>대화형 버전은 JavaScript가 필요합니다.
# <a href="../../softmax-cross-entropy/#try-it">소프트맥스 교차 엔트로피</a>에서 그 수치를 표로 볼 수 있습니다.</p>
# </div>

# %% [markdown]
# ## 소프트맥스나 log_softmax를 먼저 거친 경우 {#softmax-and-log_softmax-first}
#
# 손실 앞의 소프트맥스(softmax)는 시그모이드와 똑같은 해를 끼칩니다. autograd 이력이 없으면(분리된(detached)
# 텐서나 NumPy 배열), `explain`은 값을 보고 판단합니다. 모든 행이 $[0, 1]$ 안에 있고 합이 1이면
# 소프트맥스 출력으로 봅니다.

# %%
logits = torch.randn(4, 5)
labels = torch.tensor([0, 3, 1, 1])
probs = torch.softmax(logits, dim=1)
torch_says(lambda: F.cross_entropy(probs, labels))
say(kt.explain(probs, labels).findings[0].message)

# %% [markdown]
# `log_softmax`를 먼저 거치는 것은 틀린 것이 아니라 불필요한 것입니다. `log_softmax`는 로그 확률을
# 바꾸지 않으므로 손실은 같습니다. 그래도 이 발견 사항은 경고입니다. 같은 일을 두 번 하게 되고,
# 보통 의도한 것은 `nll_loss`였기 때문입니다.

# %%
log_probs = torch.log_softmax(logits, dim=1)
print("on logits:     ", F.cross_entropy(logits, labels).item())
print("on log_softmax:", F.cross_entropy(log_probs, labels).item())
print("nll_loss:      ", F.nll_loss(log_probs, labels).item())
print(kt.explain(log_probs, labels).codes)

# %% [markdown]
# ## one-hot-index-target {#one-hot-index-target}
#
# 입력과 같은 형태(shape)의 타깃은 클래스 **확률**을 담으며, 부동소수점이어야 합니다.
# 정수로 된 원-핫(one-hot) 타깃은 이 규칙을 어깁니다.

# %%
one_hot = F.one_hot(labels, num_classes=5)
torch_says(lambda: F.cross_entropy(logits, one_hot))
print(kt.explain(logits, one_hot))

# %% [markdown]
# 해결 방법은 클래스 인덱스 `one_hot.argmax(dim=1)`을 넘기는 것입니다(또는
# `one_hot.float()`을 넘겨도 같은 손실이 나옵니다).
#
# ## target-column {#target-column}
#
# 형태가 $(N, 1)$인 타깃(행마다 레이블 하나를 열 하나에 담은 것)은 클래스 인덱스 타깃이
# 아닙니다. torch는 이것을 "다중 타깃(multi-target)"으로 읽습니다.

# %%
column = labels[:, None]
torch_says(lambda: F.cross_entropy(logits, column))
say(kt.explain(logits, column).findings[0].message)
print("fixed:", kt.explain(logits, column.squeeze(1)).codes)

# %% [markdown]
# ## float-class-indices {#float-class-indices}
#
# 클래스 인덱스는 `int64`(또는 `uint8`)여야 합니다. CSV 파일이나 NumPy 배열에서 부동소수점으로
# 들어온 레이블은 값이 정수이더라도 거부됩니다.

# %%
float_labels = labels.float()
torch_says(lambda: F.cross_entropy(logits, float_labels))
say(kt.explain(logits, float_labels).findings[0].message)

# %% [markdown]
# ## target-out-of-range {#target-out-of-range}
#
# 각 클래스 인덱스는 `ignore_index`와 같은 경우가 아니라면 $0, \dots, C-1$ 안에 있어야 합니다.
# torch는 잘못된 값 가운데 첫 번째 것만 알려 줍니다. CUDA에서는 `device-side assert triggered`만
# 나옵니다. `explain`은 문제가 되는 값을 모두 나열하고 원인을 추측합니다. 여기서는 레이블이 1부터
# 시작하는 것처럼 보입니다.

# %%
one_based = torch.tensor([1, 5, 2, 5])
torch_says(lambda: F.cross_entropy(logits, one_based))
report = kt.explain(logits, one_based)
print(report.findings[0].values)
say(report.findings[0].message)

# %% [markdown]
# `-1`이 패딩을 나타낸다면, 메시지는 `ignore_index=-1`을 제안합니다.

# %%
padded = torch.tensor([2, -1, 0, -1])
say(kt.explain(logits, padded).findings[0].message)
print(kt.explain(logits, padded, ignore_index=-1))

# %% [markdown]
# ## all-ignored {#all-ignored}
#
# 모든 타깃이 `ignore_index`와 같으면 아무것도 세어지지 않습니다. torch의
# `'mean'`은 0을 0으로 나누어 `nan`을 돌려주고, 이 값은 학습 전체로 퍼져 나갑니다.

# %%
all_padding = torch.full((4,), -100)
torch_says(lambda: F.cross_entropy(logits, all_padding))
print(kt.explain(logits, all_padding))

# %% [markdown]
# ## probability-target-not-normalised {#probability-target-not-normalised}
#
# torch는 어떤 실수든 클래스 확률로 받아들입니다. 합이 1이 아닌 행에서는 교차 엔트로피가
# 아닌 수가 나옵니다. 음수 성분은 그 항의 부호를 뒤집습니다. 흔한 원인은 행마다 1이 여러 개 있는
# 다중 레이블 타깃이며, 이런 타깃은 `binary_cross_entropy_with_logits`로 다뤄야 합니다.

# %%
multi_label = torch.tensor([[1.0, 0, 1, 0, 0], [0, 1, 0, 0, 1]] * 2)
torch_says(lambda: F.cross_entropy(logits, multi_label))
say(kt.explain(logits, multi_label).findings[0].message)
scores = torch.rand(4, 5)
say(kt.explain(logits, scores).findings[0].message)
print("fixed:", kt.explain(logits, scores.softmax(dim=1)).codes)

# %% [markdown]
# ## half-precision-overflow-risk {#half-precision-overflow-risk}
#
# float16에서 torch는 손실을 float16으로 합하는데, float16의 가장 큰 값은 65504입니다.
# 레이블 스무딩(label smoothing)은 모든 위치의 모든 클래스에 걸쳐 $-\log p$를 합합니다.
# $N = 4096$, $C = 10$에서는 이 합이 너무 커져서 평균이 `inf`가 됩니다.
# `kernels.torch`는 반정밀도 입력을 float32로 합합니다.

# %%
x16 = torch.randn(4096, 10).half()
t16 = torch.randint(0, 10, (4096,))
smoothing = {"label_smoothing": 0.1}
torch_says(lambda: F.cross_entropy(x16, t16, **smoothing))
torch_says(lambda: F.cross_entropy(x16.float(), t16, **smoothing))
print("kernels.torch:", kt.cross_entropy(x16, t16, **smoothing))
say(kt.explain(x16, t16, **smoothing).findings[0].message)

# %% [markdown]
# `'mean'`의 분모도 오버플로(overflow)될 수 있습니다. 세어진 위치가 65504개를 넘으면
# 분모가 float16에서 `inf`가 되고, torch의 평균은 0이 됩니다.

# %%
x_big = torch.randn(70000, 2).half()
t_big = torch.randint(0, 2, (70000,))
torch_says(lambda: F.cross_entropy(x_big, t_big))
torch_says(lambda: F.cross_entropy(x_big.float(), t_big))
print(kt.explain(x_big, t_big).codes)

# %% [markdown]
# ## torch가 거부하는 그 밖의 모든 것 {#everything-else-torch-rejects}
#
# torch가 거부하는 다른 인수도 모두 보고됩니다. 각각은 torch의 예외 유형을 담은
# `error` 발견 사항이며, `explain` 자신은 이런 인수 때문에 예외를 일으키지 않습니다.
# 예외를 일으키는 것은 인수가 아예 텐서가 아닐 때뿐입니다(`TypeError`).

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
# ## 학습 중의 경고 {#warnings-while-training}
#
# `explain`은 지금 들여다보고 있는 호출 하나를 위한 것입니다. 학습 루프의 모든 호출을 검사하려면
# 경고 모드를 켜세요. 그러면 각 `warning` 발견 사항이 `cross_entropy`에서(그리고
# `CrossEntropyLoss`에서) `kernels.MisuseWarning`으로 발생하며, 여러분이 쓴 코드 줄을 가리킵니다.
# 오류는 여전히 torch 자신의 예외를 일으킵니다.
#
# `with kt.warn_on_misuse():`는 한 블록 동안 이 모드를 켭니다.
# `kt.warn_on_misuse()`는 프로세스 전체에 대해 이 모드를 켜고,
# `kt.warn_on_misuse(False)`는 끕니다. `kernels.numpy`에도 같은 스위치가 있습니다. 모드가
# 꺼져 있을 때(기본값입니다) 드는 비용은 호출마다 불리언 검사 한 번입니다.

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
# ## explain이 볼 수 없는 것 {#what-explain-cannot-see}
#
# - **이력이 없는 시그모이드 출력.** 값이 모두 $(0, 1)$ 안에 있는 분리된 텐서나 배열은
#   시그모이드 출력처럼 보입니다. `explain`은 값이 32개 이상일 때만, 그것도 조심스러운 표현으로
#   경고합니다. 그보다 적으면 가공하지 않은 로짓도 우연히 $(0, 1)$ 안에 들어가는 일이 너무 잦기
#   때문입니다. 그래서 학습자의 분리된 $(1, 3)$ 출력은 눈에 띄지 않고 지나갑니다.
# - **압축 함수(squashing function) 뒤의 산술.** 이력을 따라가는 탐색은 view, reshape, slice,
#   transpose, dtype-copy 노드만 통과합니다. 그래서
#   `torch.sigmoid(x) * 2`는 시그모이드를 가립니다.
# - **비용.** `explain`은 값을 CPU로 복사하고 그 값들을 몇 차례 훑습니다.
#   마지막 확인으로 `cross_entropy` 순전파(forward)도 한 번 실행합니다.
#   경고 모드는 그 순전파를 건너뛰지만, 그래도 호출마다 데이터를 한 번 훑는 비용이 듭니다.
#   긴 학습에는 쓰지 말고, 디버깅하는 동안에 쓰세요.

# %%
detached = torch.sigmoid(torch.randn(1, 3))
print("detached (1, 3):", kt.explain(detached, target).codes)
hidden = torch.sigmoid(raw) * 2
print("sigmoid(x) * 2: ", kt.explain(hidden, target).codes)
