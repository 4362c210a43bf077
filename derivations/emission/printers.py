"""Strict NumPy, PyTorch, Triton and JavaScript printers for kernel expressions (small subclasses of SymPy's printers).

They override only what SymPy 1.14 prints wrongly or not at all for elementwise kernels, and raise on
anything else they cannot print as elementwise array code:

- Max / Min: numpy.maximum / torch.clamp_min (TorchPrinter writes torch.max(0, x), a TypeError);
- log1p: torch.log1p (missing from TorchPrinter);
- xlogy: torch.xlogy; NumPy has none, so a helper ``_xlogy`` is emitted into the module that uses it;
- Pow: only 1/x and small positive integer powers (NumPyPrinter writes x**(-1.0), TorchPrinter torch.pow);
- Exp2 (2^x): numpy.exp2 / torch.exp2;
- irrational constants (1/log(2)): a float literal, so that they stay weakly typed (numpy.log(2) would be a
  float64 scalar that turns a float32 array into float64; torch.log(2) is a TypeError) and a constant
  factor is a multiplication (1.4426950408889634*(z - m)), not a division;
- KroneckerDelta, Piecewise, sums and indexed objects are refused: kernels gather, never build a one-hot.

Triton (``triton.language as tl``, inside ``@triton.jit`` helpers) prints exp, log, exp2, maximum and minimum
from ``tl``; a tensor there has no ``**``, so x**2..x**4 is a product (x*x); tanh is the emitted helper
``_tanh``, written through exp, since libdevice's tanh does not run under TRITON_INTERPRET=1; every other
function is refused (SymPy's Python printer would print it from ``math``, which a Triton kernel cannot call).

JavaScript (numbers, doubles) differs again: SymPy 1.14's JavascriptCodePrinter prints a Sum as the literal
text ``Sum(...)`` and ``true`` as ``True`` (refused here), and cannot print Exp2, XLogY or log1p (mapped to
``Math.pow(2, x)``, an emitted ``xlogy`` helper and ``Math.log1p``); every power is ``Math.pow``, since
``-x**2`` is a SyntaxError in JavaScript.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.jscode import JavascriptCodePrinter
from sympy.printing.numpy import NumPyPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.pycode import PythonCodePrinter
from sympy.printing.pytorch import TorchPrinter
from sympy.printing.str import StrPrinter

from derivations.emission.kernel import Exp2
from derivations.emission.strict import Strict as _Strict
from derivations.emission.strict import UnprintableKernel, constant, grouped, literal  # noqa: F401  (importers)

#: Helper functions a printer may call; emitted (once) into each module whose code uses them.
HELPERS = {
    "_xlogy": (
        "def _xlogy(x, y):\n"
        '    """x log y, and 0 where x == 0 unless y is nan (torch.xlogy; 0 log 0 = 0)."""\n'
        "    return numpy.where((x == 0) & ~numpy.isnan(y), 0.0, x * numpy.log(y))"
    ),
}


class NumpyKernelPrinter(_Strict, NumPyPrinter):
    """NumPy code for one elementwise kernel expression; imports in ``module_imports``, helpers in ``helpers``."""

    _module = "numpy"

    def __init__(self, settings=None):
        super().__init__(settings)
        self.helpers: set[str] = set()

    def _print_Max(self, expr):
        return self._minmax(expr, "maximum", "")

    def _print_Min(self, expr):
        return self._minmax(expr, "minimum", "")

    def _print_XLogY(self, expr):
        for name in ("numpy.where", "numpy.isnan", "numpy.log"):  # what _xlogy uses
            self._module_format(name)
        self.helpers.add("_xlogy")
        return "_xlogy({}, {})".format(*tuple(self._print(a) for a in expr.args))


class TorchKernelPrinter(_Strict, TorchPrinter):
    """PyTorch code for one elementwise kernel expression; imports recorded in ``module_imports``."""

    _module = "torch"

    def _print_Max(self, expr):
        return self._minmax(expr, "maximum", "clamp_min")

    def _print_Min(self, expr):
        return self._minmax(expr, "minimum", "clamp_max")

    def _print_log1p(self, expr):
        return f"{self._module_format('torch.log1p')}({self._print(expr.args[0])})"

    def __init__(self, settings=None):
        super().__init__(settings)
        self.helpers: set[str] = set()

    def _print_XLogY(self, expr):
        x, y = (self._print(a) for a in expr.args)
        return f"{self._module_format('torch.xlogy')}({x}, {y})"


class TritonKernelPrinter(_Strict, PythonCodePrinter):
    """Triton code for one elementwise expression in a ``@triton.jit`` helper; helpers it calls in ``helpers``."""

    _module = "tl"
    #: The functions a Triton helper may call (as tl.<name> or an emitted helper); anything else is refused.
    _FUNCTIONS = (sp.exp, sp.log, sp.tanh, sp.Max, sp.Min, Exp2)

    def __init__(self, settings=None):
        super().__init__(settings)
        self.helpers: set[str] = set()
        self.used: set[str] = set()  # the tl functions printed

    def _module_format(self, name: str, register: bool = True) -> str:
        self.used.add(name)
        return name

    def _print(self, expr, **kwargs):
        if isinstance(expr, sp.Function) and not isinstance(expr, (*self._FUNCTIONS, sp.KroneckerDelta)):
            self._refuse(expr, "a Triton helper calls exp, log, exp2, tanh, maximum and minimum only")
        return super()._print(expr, **kwargs)

    def _print_exp(self, expr):
        return f"{self._module_format('tl.exp')}({self._print(expr.args[0])})"

    def _print_log(self, expr):
        return f"{self._module_format('tl.log')}({self._print(expr.args[0])})"

    def _print_tanh(self, expr):
        self._module_format("tl.exp")  # what _tanh uses
        self.helpers.add("_tanh")
        return f"_tanh({self._print(expr.args[0])})"

    def _print_Max(self, expr):
        return self._minmax(expr, "maximum", "")

    def _print_Min(self, expr):
        return self._minmax(expr, "minimum", "")

    def _print_Pow(self, expr, rational=False):
        base, power = expr.args
        if power.is_Integer and 2 <= power <= 4:  # a Triton tensor has no **: (x*x), grouped (it may divide)
            return "({})".format("*".join([self.parenthesize(base, PRECEDENCE["Mul"])] * int(power)))
        return super()._print_Pow(expr, rational)


#: Helpers the Triton printer may call; emitted (once, as @triton.jit functions) into the module that uses them.
TRITON_HELPERS = {
    "_tanh": (
        "@triton.jit\n"
        "def _tanh(x):\n"
        '    """tanh x through exp (libdevice\'s tanh does not run under TRITON_INTERPRET=1): for |x| >= 1/8,\n'
        "    sign(x) (1 - e) / (1 + e) with e = exp(-2 |x|) <= 1 (never overflows); below 1/8, where 1 - e would\n"
        '    cancel, the Taylor series x - x^3/3 + 2x^5/15 - 17x^7/315 + 62x^9/2835 (relative error < 1e-11)."""\n'
        "    a = tl.abs(x)\n"
        "    e = tl.exp(-2.0 * a)\n"
        "    x2 = x * x\n"
        "    small = a * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 + x2 * (-17.0 / 315.0 + x2 * (62.0 / 2835.0)))))\n"
        "    t = tl.where(a < 0.125, small, (1.0 - e) / (1.0 + e))\n"
        "    return tl.where(x < 0, -t, t)"
    ),
}


class JavascriptKernelPrinter(_Strict, JavascriptCodePrinter):
    """JavaScript for one elementwise kernel expression on numbers; helpers it calls in ``helpers``."""

    _module = "Math"

    def __init__(self, settings=None):
        super().__init__(settings or {})
        self.helpers: set[str] = set()

    def _module_format(self, name: str) -> str:
        return name

    def _print_Exp2(self, expr):
        return f"Math.pow(2, {self._print(expr.args[0])})"

    def _print_Pow(self, expr, rational=False):
        base, power = expr.args
        if power == -1:
            return "1/{}".format(self.parenthesize(base, PRECEDENCE["Pow"]))
        if power.is_Integer and 2 <= power <= 4:
            return f"Math.pow({self._print(base)}, {power})"
        self._refuse(expr, "only 1/x and x**2..x**4 are printed")

    def _print_Max(self, expr):
        return self._minmax(expr, "max", "")

    def _print_Min(self, expr):
        return self._minmax(expr, "min", "")

    def _print_log1p(self, expr):
        return f"Math.log1p({self._print(expr.args[0])})"

    def _print_XLogY(self, expr):
        self.helpers.add("xlogy")
        return "xlogy({}, {})".format(*tuple(self._print(a) for a in expr.args))

    def _print_BooleanTrue(self, expr):
        self._refuse(expr, "a boolean; kernels are arithmetic")

    _print_BooleanFalse = _print_BooleanTrue


#: Helper functions the JavaScript printer may call; emitted (once) into the script that uses them.
JS_HELPERS = {
    "xlogy": (
        "  // x log y, and 0 where x == 0 unless y is NaN (torch.xlogy; 0 log 0 = 0)\n"
        "  function xlogy(x, y) {\n"
        "    return x === 0 && !Number.isNaN(y) ? 0 : x * Math.log(y);\n"
        "  }"
    ),
}


class DocPrinter(StrPrinter):
    """The SymPy expression as docstrings show it (sstr, with grouped terms parenthesised)."""

    def _print_UnevaluatedExpr(self, expr):
        return grouped(self, expr)


PRINTERS = {"numpy": NumpyKernelPrinter, "torch": TorchKernelPrinter, "triton": TritonKernelPrinter}
