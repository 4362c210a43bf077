"""The words of the benchmarks block (hooks/benchmarks_hook.py) in each edition; the plot stays English."""

#: The words around the figures in each edition; "goals" translates each goal's ``what`` of benchmarks_hook.GOALS (English: as is).
#: The plot stays in English in every edition: its labels are drawn into the SVG by matplotlib.
WORDS = {
    "en": {
        "where": "Measured on **{machine}** on **{date}** (torch {torch}, NumPy {numpy}, {rounds} rounds; load "
        "average before and after: {before} and {after}).",
        "allocator": " Allocator in the timing process: {allocator}.",
        "not_measured": "**not measured**",
        "met": "met",
        "missed": "**missed** (by {by:.1%})",
        "spread": "; single rounds {low:.2f}-{high:.2f}x",
        "goal": "{mark}: {what}; worst {median}{value:.2f}{unit} ({where})",
        "median": "median ",
        "goals": {},
        "case": "N x C, options",
        "torch": "F.ce fwd / f+b",
        "alt": "Time ratios and peak memory of each method",
        "time": "**Time**, median of the per-round ratios to F.cross_entropy (F.ce) in the same pass. fwd and "
        "f+b: `kernels.torch.cross_entropy`, forward and forward + backward; overwrite: "
        "`cross_entropy_overwrite_logits`; NumPy: `kernels.numpy.cross_entropy_with_grad`; "
        "w+ign+ls: weight, ignore_index and label_smoothing=0.1 set. Last column: F.ce's own median time.",
        "memory": "**Peak extra memory**, in L (one logits tensor); fwd (grad): a forward whose logits require "
        "grad (only row statistics are kept for backward).",
    },
    "ko": {
        "where": "**{machine}**에서 **{date}**에 측정했습니다 (torch {torch}, NumPy {numpy}, {rounds}라운드; "
        "부하 평균(load average)은 측정 전 {before}, 측정 후 {after}).",
        "allocator": " 시간을 잰 프로세스의 메모리 할당자: {allocator}.",
        "not_measured": "**측정하지 않음**",
        "met": "달성",
        "missed": "**미달** ({by:.1%} 초과)",
        "spread": "; 개별 라운드 {low:.2f}-{high:.2f}x",
        "goal": "{mark}: {what}; 최악의 경우 {median}{value:.2f}{unit} ({where})",
        "median": "중앙값 ",
        "goals": {
            "forward+backward time <= 0.6x at C >= 32000": "C >= 32000에서 순전파+역전파 시간 <= 0.6x",
            "forward+backward time <= 1.0x at 8192 x 1000": "8192 x 1000에서 순전파+역전파 시간 <= 1.0x",
            "forward time <= 0.6x at C >= 32000": "C >= 32000에서 순전파 시간 <= 0.6x",
            "forward peak extra memory <= 0.05 L": "순전파의 최대 추가 메모리 <= 0.05 L",
            "forward peak extra memory <= 0.05 L, logits requiring grad": (
                "로짓이 기울기를 요구할 때 순전파의 최대 추가 메모리 <= 0.05 L"
            ),
            "forward+backward peak extra memory <= 1.0 L": "순전파+역전파의 최대 추가 메모리 <= 1.0 L",
            "overwrite_logits: peak extra memory <= 0.05 L": "overwrite_logits: 최대 추가 메모리 <= 0.05 L",
            "overwrite_logits: time <= 0.3x at C >= 32000": "overwrite_logits: C >= 32000에서 시간 <= 0.3x",
            "NumPy loss+gradient time <= 1.0x at every shape": "모든 형태에서 NumPy 손실+기울기 시간 <= 1.0x",
        },
        "case": "N x C, 옵션",
        "torch": "F.ce fwd / f+b",
        "alt": "각 방법의 시간 비율과 최대 메모리",
        "time": "**시간**은 같은 패스에서 F.cross_entropy (F.ce)에 대한 라운드별 비율의 중앙값입니다. fwd와 "
        "f+b는 `kernels.torch.cross_entropy`의 순전파와 순전파 + 역전파, overwrite는 "
        "`cross_entropy_overwrite_logits`, NumPy는 `kernels.numpy.cross_entropy_with_grad`이며, "
        "w+ign+ls는 weight, ignore_index, label_smoothing=0.1을 설정한 경우입니다. 마지막 열은 F.ce 자체의 "
        "시간 중앙값입니다.",
        "memory": "**최대 추가 메모리**는 L (로짓 텐서 하나) 단위입니다. fwd (grad)는 로짓이 기울기를 요구하는 "
        "순전파입니다 (역전파를 위해 행 통계만 보관합니다).",
    },
}
