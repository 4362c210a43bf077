"""explain: how cross_entropy will read its arguments, and the likely mistakes in them (both backends).

    _report.py         Report, Finding, Arg: what explain returns, and how ``print(report)`` reads
    _rules.py          ``analyse``: the shape, dtype and option rules, in cross_entropy's order
    _target_rules.py   rules that read the target's values (out of range, all ignored, not a distribution)
    _input_rules.py    rules that read the input's values (probabilities as logits, float16 overflow)
    _frontends.py      ``from_torch`` / ``from_numpy``: tensors or arrays in, a Report out
    _warnings.py       ``MisuseFlag`` and ``warn``: the opt-in MisuseWarning of ``warn_on_misuse()``

Backend-neutral: it imports NumPy, never a backend; kernels.torch and kernels.numpy call it and pass in
their own cross_entropy for its last check.
"""

from kernels.explain._frontends import from_numpy, from_torch, squash_in_history
from kernels.explain._report import Arg, Finding, Report
from kernels.explain._rules import analyse
from kernels.explain._warnings import MisuseFlag, warn

__all__ = ["Arg", "Finding", "MisuseFlag", "Report", "analyse", "from_numpy", "from_torch", "squash_in_history", "warn"]
