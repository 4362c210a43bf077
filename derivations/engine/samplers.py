"""Samplers for the numeric spot check: values for base[1..size] drawn from a claim's assumptions.

Every value is an exact rational, drawn with the generator the spot check passes in, so a failing point
can be replayed from its seed.
"""

from __future__ import annotations

import numpy as np
import sympy as sp


def simplex(base: sp.IndexedBase, size: int, rng: np.random.Generator) -> dict:
    """A random point of the open probability simplex (every entry > 0, sum = 1), exactly."""
    raw = [sp.Rational(int(v), 10**6) for v in rng.integers(1, 10**6, size)]
    s = sum(raw)
    return {base[i + 1]: raw[i] / s for i in range(size)}


def reals(base: sp.IndexedBase, size: int, rng: np.random.Generator, scale: float = 3.0) -> dict:
    """Independent real values in (-scale, scale), as exact rationals."""
    return {base[i + 1]: sp.Rational(float(rng.uniform(-scale, scale))).limit_denominator(10**9) for i in range(size)}


def positives(base: sp.IndexedBase, size: int, rng: np.random.Generator, high: float = 3.0) -> dict:
    """Independent positive values in (0.05, high), as exact rationals."""
    return {base[i + 1]: sp.Rational(float(rng.uniform(0.05, high))).limit_denominator(10**9) for i in range(size)}


def scalar(symbol: sp.Symbol, rng: np.random.Generator, low: float, high: float) -> dict:
    return {symbol: sp.Rational(float(rng.uniform(low, high))).limit_denominator(10**9)}
