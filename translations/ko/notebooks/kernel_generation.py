# translation of docs/notebooks/kernel_generation.py, source 5e773091ce9a
# %% [markdown]
# # 에미터 들여다보기 {#inside-the-emitter}
#
# [커널은 어떻게 만들어지는가](../../kernels/)에서는 검사를 거친 식이 `kernels/_generated/`에 이르기까지의
# 경로를 설명합니다. 이 노트북은 `derivations/`의 실제 코드로 그 경로를 따라갑니다. 커널(kernel) 식의 표,
# 엄격한 프린터(printer), 방출된 함수 하나, 배너(banner), 교과서식 소프트맥스(softmax)를 거부하는 오버플로
# 없음 검사(overflow-freedom check), 그리고 드리프트 검사(drift check)를 차례로 살펴봅니다.

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
# ## 하나의 식, 두 프린터 {#one-expression-two-printers}
#
# SymPy가 담고 있는 그대로의 인덱스 타깃 손실(loss)입니다. 클래스 가중치(class weight)에, 행 최댓값까지의
# 차이와 행 합의 로그를 더한 것을 곱한 식입니다(음이 아닌 두 부분이 먼저 더해지도록 묶여 있습니다):

# %%
kernel = next(k for k in table if k.name == "ce_index_loss")
kernel.expr

# %% [markdown]
# 같은 식을 두 엄격한 프린터로 출력한 결과와, 독스트링(docstring)까지 포함한 방출된 PyTorch 함수 전체입니다.
# 독스트링에는 SymPy 식, 그 식을 증명하는 명제(claim)와 그 명제가 들어 있는 파일, 그리고 각 인수가 무엇을
# 나타내는지가 적혀 있습니다:

# %%
for backend, printer in PRINTERS.items():
    print(f"{backend:6s}", printer().doprint(kernel.expr))
print()
source = next(c.source for c in claims() if c.id == kernel.claim)
print(render.render_function(kernel, PRINTERS["torch"](), source))

# %% [markdown]
# 프린터는 원소별 의미가 없는 것을 거부합니다. 크로네커 델타(Kronecker delta)를 쓴다는 것은 원-핫(one-hot)
# 벡터를 만든다는 뜻인데, 커널은 결코 그렇게 하지 않습니다:

# %%
k, t = sp.symbols("k t", integer=True)
try:
    PRINTERS["torch"]().doprint(sp.exp(Z - M) / D - sp.KroneckerDelta(k, t))
except UnprintableKernel as err:
    print(textwrap.fill(f"UnprintableKernel: {err}", 76))

# %% [markdown]
# ## 배너 {#the-banner}
#
# 생성된 모든 파일의 첫 줄입니다:

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
# ## 오버플로 없음 검사 {#the-overflow-freedom-check}
#
# 무엇이든 출력하기 전에, 모든 $e^{a}$는 그 인수가 $\le 0$임을 SymPy가 보일 수 있어야 합니다. 이때 각 로짓(logit)은
# $m - \delta$($\delta \ge 0$, $m$은 행 최댓값)로, 행 합은 $d = 1 + \delta'$로 씁니다. 안정적인
# 소프트맥스는 통과하고, 교과서식 소프트맥스는 거부됩니다:

# %%
require_overflow_free("stable_softmax", sp.exp(Z - M) / D)
print("exp(z - m) / d: accepted")
try:
    require_overflow_free("textbook_softmax", sp.exp(Z) / D)
except OverflowRisk as err:
    print(textwrap.fill(f"OverflowRisk: {err}", 76))

# %% [markdown]
# ## 드리프트 검사 {#the-drift-check}
#
# `python -m derivations emit --check`는 모든 파일을 새로 렌더링해서, `kernels/_generated/`에 커밋되어 있는
# 내용과 바이트 단위로 비교합니다. 아래는 이 사이트를 빌드하는 동안 여기서 실행한 같은 비교입니다:

# %%
fresh = render.render()
diff = emit.compare(fresh)
print(
    f"{len(fresh)} files rendered;",
    "no drift" if not diff else f"DRIFT:\n{diff}",
)
