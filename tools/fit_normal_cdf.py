"""Fits the polynomial Q of adaptbench-infer's `normal_cdf` and prints its f32 coefficients.

    PYTHON tools/fit_normal_cdf.py        # PYTHON: one with torch, as for benches/compare_torch.sh

Φ(−|x|) = e^{−x²/2} · t · Q(s), t = 1/(1 + p·|x|), s = 1 − t (Abramowitz & Stegun 7.1.26's form). Q has degree 8
and constant ½ (so Φ(0) = ½ exactly); the other coefficients minimise the maximum relative error of Q against
½·erfcx(|x|/√2)/t on |x| ≤ 14, by Lawson's iteration (weighted least squares whose weights grow where the error
is largest) on 4000 Chebyshev nodes in s. p is the grid value with the smallest error. Prints p, the error and
Q's coefficients highest degree first, as f32 (the values in `math.rs`'s CDF_P and CDF_Q).
"""
import math
import struct

import torch

torch.set_default_dtype(torch.float64)
X_MAX = 14.0
DEGREE = 8


def target(x):
    """½·erfc(x/√2)·e^{x²/2}, the Gaussian-free part of Φ(−x), in f64 (erfc does not underflow for x ≤ 14)."""
    return 0.5 * math.erfc(x / math.sqrt(2)) * math.exp(x * x / 2)


def fit(p, iterations, nodes):
    """Q's coefficients (lowest degree first) for this p, and Q's maximum relative error on the nodes."""
    s_max = 1 - 1 / (1 + p * X_MAX)
    k = torch.arange(nodes)
    s = s_max / 2 + s_max / 2 * torch.cos(math.pi * (k + 0.5) / nodes)
    t = 1 - s
    x = (1 / t - 1) / p
    q = torch.tensor([target(float(xi)) / float(ti) for xi, ti in zip(x, t)])
    powers = torch.stack([s**j for j in range(1, DEGREE + 1)], 1)
    weights = torch.ones(nodes)
    for _ in range(iterations):
        a = powers / q[:, None] * weights[:, None].sqrt()
        b = (q - 0.5) / q * weights.sqrt()
        c = torch.linalg.lstsq(a, b, driver="gelsd").solution
        error = (powers @ c + 0.5 - q) / q
        weights = weights * error.abs()
        weights = weights / weights.sum()
    return torch.cat([torch.tensor([0.5]), c]), error.abs().max().item()


def f32(v):
    return struct.unpack("f", struct.pack("f", v))[0]


if __name__ == "__main__":
    _, p = min((fit(p, 15, 1500)[1], p) for p in [0.2 + 0.02 * i for i in range(21)])
    coefficients, error = fit(p, 40, 4000)
    print(f"p = {p:.2f}, max relative error of Q = {error:.3e}")
    for c in reversed(coefficients.tolist()):
        print(f"    {f32(c)!r},")
