"""Gamma and Dirichlet sampling primitives (torch._standard_gamma, _standard_gamma_grad,
_sample_dirichlet, _dirichlet_grad), after ATen's Distributions.h.

On the CPU the samplers are ATen's: Marsaglia-Tsang with the alpha < 1 boost, element by element
in C order, fed double uniforms and double normals (with the generator's cached second Box-Muller
sample) from the mt19937 engine, so after the same seed they give PyTorch's numbers. On CUDA the
same method runs vectorised over the tensor with the Philox engine's draws (a correct Gamma
sampler, not PyTorch's CUDA numbers). The gradients are ATen's implicit reparameterisation
formulas (standard_gamma_grad_one, dirichlet_grad_one), vectorised.
"""
import math

import numpy as np

from . import _mt_engine
from ._dispatch import _array_module
from ._random_ops import _generator, _word
from ._tensor import Tensor
from .autograd.function import Function

_F32_THIRD = float(np.float32(1.0) / np.float32(3.0))   # ATen's 1.0f / 3.0f
_F32_00331 = float(np.float32(0.0331))                   # ATen's 0.0331f


# ---------------------------------------------------------------------------- CPU: ATen's draws

class _Draws:
    """The standard uniform and normal samplers _s_gamma_cpu hands sample_gamma: double uniforms
    from the engine, and at::normal_distribution<double>, which shares the engine's cached
    second Box-Muller sample with every other serial normal draw."""

    def __init__(self, engine, expected):
        self.engine = engine
        self.uniform = _mt_engine._UniformStream(engine, block=max(64, expected))

    def normal(self):
        eng = self.engine
        if eng.next_double_normal is not None:
            cached, eng.next_double_normal = eng.next_double_normal, None
            return cached
        u1, u2 = self.uniform(), self.uniform()
        radius = math.sqrt(-2.0 * math.log1p(-u2))
        theta = 2.0 * math.pi * u1
        eng.next_double_normal = radius * math.sin(theta)
        return radius * math.cos(theta)

    def finish(self):
        self.uniform.finish()


def _gamma_setup(alpha):
    """The per-element constants of sample_gamma, computed as ATen computes them for alpha's
    dtype (float alpha: the boost exponent 1.0f / alpha, alpha + 1 and d = alpha - 1.0f / 3.0f
    are float arithmetic; only then is d widened to double)."""
    work = np.float64 if alpha.dtype == np.float64 else np.float32
    a = alpha.astype(work)
    boosted = a < 1
    with np.errstate(all='ignore'):
        exponent = (work(1.0) / a).astype(np.float64)
        a = np.where(boosted, a + work(1.0), a)
        d = (a - work(_F32_THIRD)).astype(np.float64)
        c = 1.0 / np.sqrt(9.0 * d)
    return boosted, exponent, d, c


def _sample_gamma_one(draws, boosted, exponent, d, c):
    """sample_gamma (Distributions.h) for one alpha, in double, with ATen's order of draws."""
    scale = 1.0
    if boosted:
        scale = math.pow(1.0 - draws.uniform(), exponent)
    log = math.log
    while True:
        while True:
            x = draws.normal()
            y = 1.0 + c * x
            if not y <= 0:
                break
        v = y * y * y
        u = 1.0 - draws.uniform()
        xx = x * x
        if u < 1.0 - _F32_00331 * xx * xx:
            return scale * d * v
        log_v = log(v) if v > 0 else (-math.inf if v == 0 else math.nan)
        if log(u) < 0.5 * xx + d * (1.0 - v + log_v):
            return scale * d * v


def _gamma_cpu(engine, alpha):
    """Standard Gamma(alpha) samples in double (before the cast to alpha's dtype), C order."""
    flat = alpha.ravel()
    out = np.zeros(flat.size, np.float64)
    if flat.size == 0:
        return out.reshape(alpha.shape)
    boosted, exponent, d, c = _gamma_setup(flat)
    draws = _Draws(engine, 4 * flat.size)
    try:
        for i, zero in enumerate((flat == 0).tolist()):
            if not zero:              # alpha == 0: sample 0, and no draws
                out[i] = _sample_gamma_one(draws, bool(boosted[i]), float(exponent[i]),
                                           float(d[i]), float(c[i]))
    finally:
        draws.finish()
    return out.reshape(alpha.shape)


def _at_least(xp, floor, values):
    """std::max(floor, v), which gives `floor` for a NaN v."""
    values = xp.asarray(values)
    floor = xp.asarray(float(floor), dtype=values.dtype)
    return xp.where(floor < values, values, floor)


# -------------------------------------------------------------------- CUDA: vectorised method

def _gamma_vectorised(engine, alpha):
    """Marsaglia-Tsang on all elements at once (in double), redrawing the rejected ones."""
    xp = engine.xp
    a = alpha.astype(np.float64).ravel()
    n = a.size
    out = xp.zeros(n, np.float64)
    if n == 0:
        return out.reshape(alpha.shape)
    boosted = a < 1
    with np.errstate(all='ignore'):
        scale = xp.where(boosted, (1.0 - engine.uniform((n,), np.float64)) ** (1.0 / a), 1.0)
        a = xp.where(boosted, a + 1.0, a)
        d = a - 1.0 / 3.0
        c = 1.0 / xp.sqrt(9.0 * d)
    pending = xp.nonzero(xp.isfinite(a) & (d > 0))[0]
    while pending.size:
        x = engine.normal((pending.size,), np.float64)
        u = 1.0 - engine.uniform((pending.size,), np.float64)
        dp, cp = d[pending], c[pending]
        y = 1.0 + cp * x
        v = y * y * y
        with np.errstate(all='ignore'):
            xx = x * x
            accept = (y > 0) & ((u < 1.0 - 0.0331 * xx * xx) |
                                (xp.log(u) < 0.5 * xx + dp * (1.0 - v + xp.log(v))))
        out[pending[accept]] = dp[accept] * v[accept]
        pending = pending[~accept]
    # alpha = 0 gives 0 and alpha = inf gives inf, as on the CPU; NaN or negative alpha NaN
    # (which the caller floors to the dtype's tiny)
    given = alpha.astype(np.float64).ravel()
    out = xp.where(given > 0, out * scale, xp.where(given == 0, 0.0, xp.nan))
    out = xp.where(xp.isposinf(given), xp.inf, out)
    return out.reshape(alpha.shape)


# ------------------------------------------------------------------------------- the samplers

def _check_float(input, kernel, half_ok):
    dt = input.dtype
    if not dt.is_floating_point or (not half_ok and dt.itemsize < 4) or dt.name == 'bfloat16':
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_word(dt)}\'')


def _gamma_data(alpha, generator):
    gen = _generator(generator, alpha.device)
    data = alpha._data
    if data.__class__ is np.ndarray:
        samples, xp = _gamma_cpu(gen._engine, data), np
    else:
        samples, xp = _gamma_vectorised(gen._engine, data), gen._engine.xp
    return _at_least(xp, np.finfo(data.dtype).tiny, samples.astype(data.dtype))


class _StandardGamma(Function):
    """x ~ Gamma(alpha, 1), differentiable in alpha by the implicit reparameterisation gradient
    dx/dalpha = -(dF/dalpha) / f at x."""

    @staticmethod
    def forward(ctx, alpha, generator):
        x = Tensor._make(_gamma_data(alpha, generator))
        ctx.save_for_backward(alpha, x)
        return x

    @staticmethod
    def backward(ctx, grad):
        alpha, x = ctx.saved_tensors
        return grad * _standard_gamma_grad(alpha, x), None


def _standard_gamma(input, generator=None):
    """Samples of Gamma(input, rate 1), one per element (torch._standard_gamma)."""
    on_cpu = input._data.__class__ is np.ndarray
    _check_float(input, 'gamma_cpu' if on_cpu else 'gamma_cuda', half_ok=not on_cpu)
    return _StandardGamma.apply(input, generator)


def _sample_dirichlet(input, generator=None):
    """Dirichlet(input) samples along the last dim (torch._sample_dirichlet): Gamma draws in
    double, normalised by their sum, cast back and kept inside [tiny, 1) as ATen does.
    Not differentiable (Dirichlet.rsample wraps it with _dirichlet_grad)."""
    _check_float(input, 'dirichlet', half_ok=False)
    gen = _generator(generator, input.device)
    data = input._data
    if data.__class__ is np.ndarray:
        gammas = _gamma_cpu(gen._engine, data.astype(np.float64))
        xp = np
    else:
        gammas = _gamma_vectorised(gen._engine, data)
        xp = gen._engine.xp
    gammas = _at_least(xp, np.finfo(np.float64).tiny, gammas)
    total = gammas.sum(-1, keepdims=True) if gammas.ndim else gammas
    with np.errstate(all='ignore'):
        ratio = (gammas / total).astype(data.dtype)
    below_one = np.nextafter(data.dtype.type(1), data.dtype.type(0))
    ratio = _at_least(xp, np.finfo(data.dtype).tiny, ratio)
    return Tensor._make(xp.where(ratio < below_one, ratio, below_one))


# ---------------------------------------------------------------------------- the gradients

_PSI_10 = 2.25175258906672110764
_DIGAMMA_ASYMPTOTIC = (8.33333333333333333333E-2, -2.10927960927960927961E-2,
                       7.57575757575757575758E-3, -4.16666666666666666667E-3,
                       3.96825396825396825397E-3, -8.33333333333333333333E-3,
                       8.33333333333333333333E-2)


def _digamma(xp, x):
    """ATen's digamma_one (Cephes) on a float64 array: reflect negatives, recur up to 10, then
    the asymptotic series."""
    with np.errstate(all='ignore'):
        negative = x < 0
        reflection = xp.where(negative, -math.pi / xp.tan(math.pi * x), 0.0)
        x = xp.where(negative, 1 - x, x)
        result = xp.zeros_like(x)
        for _ in range(10):                    # x >= 0 here, so at most ten steps reach 10
            low = x < 10
            if not bool(low.any()):
                break
            result = xp.where(low, result - 1 / x, result)
            x = xp.where(low, x + 1, x)
        z = 1.0 / (x * x)
        series = xp.zeros_like(x)
        for coef in _DIGAMMA_ASYMPTOTIC:
            series = series * z + coef
        series = xp.where(x < 1e17, z * series, 0.0)
        value = xp.where(x == 10, result + _PSI_10, result + xp.log(x) - 0.5 / x - series)
        value = value + reflection
        integer_pole = (x == 0) | (negative & (x == xp.floor(x)))
    return xp.where(integer_pole, xp.inf, value)


_GAMMA_GRAD_UV = np.array([
    [0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089,
     0.0014179084],
    [0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113,
     -0.0035938915, -0.00058392623],
    [0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326,
     0.00085092367, -1.5247877e-07]])


def _gamma_grad_array(xp, alpha, x):
    """standard_gamma_grad_one on float64 arrays: a Taylor series for small x, a Rice saddle
    point expansion for large alpha, a bivariate rational approximation otherwise."""
    with np.errstate(all='ignore'):
        # x < 0.8: series for the incomplete gamma function and its alpha-derivative
        numer, denom = xp.ones_like(x), alpha.copy()
        series1, series2 = numer / denom, numer / (denom * denom)
        for i in range(1, 6):
            numer = numer * (-x / i)
            denom = denom + 1
            series1 = series1 + numer / denom
            series2 = series2 + numer / (denom * denom)
        pow_x_alpha = x ** alpha
        pdf = x ** (alpha - 1) * xp.exp(-x)
        cdf = pow_x_alpha * series1
        cdf_alpha = (xp.log(x) - _digamma(xp, alpha)) * cdf - pow_x_alpha * series2
        small_x = -cdf_alpha / pdf
        small_x = xp.where(xp.isnan(small_x), 0.0, small_x)

        # alpha > 8, x within 10% of alpha: avoid the expansion's singularity at x = alpha
        near = (1 + 24 * alpha * (1 + 12 * alpha)) * (
            1440 * (alpha * alpha) + 6 * x * (53 - 120 * x) - 65 * x * x / alpha
            + alpha * (107 + 3600 * x)) / (1244160 * (alpha * alpha) * (alpha * alpha))
        root = xp.sqrt(8 * alpha)
        term2 = root / (alpha - x)
        term3 = (x - alpha - alpha * xp.log(x / alpha)) ** -1.5
        term23 = xp.where(x < alpha, term2 - term3, term2 + term3)
        term1 = xp.log(x / alpha) * term23 - xp.sqrt(2 / alpha) * (alpha + x) / (
            (alpha - x) * (alpha - x))
        stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
        far = -stirling * (x * term1) / root
        large_alpha = xp.where((0.9 * alpha <= x) & (x <= 1.1 * alpha), near, far)

        u, v = xp.log(x / alpha), xp.log(alpha)
        coef = [_GAMMA_GRAD_UV[0, i] + u * (_GAMMA_GRAD_UV[1, i] + u * _GAMMA_GRAD_UV[2, i])
                for i in range(8)]
        p = coef[0] + v * (coef[1] + v * (coef[2] + v * coef[3]))
        q = coef[4] + v * (coef[5] + v * (coef[6] + v * coef[7]))
        rational = xp.exp(p / q)
    return xp.where(x < 0.8, small_x, xp.where(alpha > 8.0, large_alpha, rational))


def _beta_grad_alpha_small(xp, x, alpha, beta):
    """d x / d alpha for x ~ Beta(alpha, beta) near 0: a Taylor expansion."""
    factor = _digamma(xp, alpha) - _digamma(xp, alpha + beta) - xp.log(x)
    numer = xp.ones_like(x)
    series = numer / alpha * (factor + 1 / alpha)
    for i in range(1, 11):
        numer = numer * ((i - beta) * x / i)
        denom = alpha + i
        series = series + numer / denom * (factor + 1 / denom)
    result = x * (1 - x) ** -beta * series
    return xp.where(xp.isnan(result), 0.0, result)


def _beta_grad_beta_small(xp, x, alpha, beta):
    """d x / d beta for x ~ Beta(alpha, beta) near 0: a Taylor expansion."""
    factor = _digamma(xp, alpha + beta) - _digamma(xp, beta)
    numer, betas, dbetas = xp.ones_like(x), xp.ones_like(x), xp.zeros_like(x)
    series = factor / alpha
    for i in range(1, 9):
        numer = numer * (-x / i)
        dbetas = dbetas * (beta - i) + betas
        betas = betas * (beta - i)
        series = series + numer / (alpha + i) * (dbetas + factor * betas)
    result = -(1 - x) ** (1 - beta) * series
    return xp.where(xp.isnan(result), 0.0, result)


def _beta_grad_alpha_mid(xp, x, alpha, beta):
    """d x / d alpha for large alpha and beta: a Rice saddle point expansion."""
    total = alpha + beta
    mean = alpha / total
    std = xp.sqrt(alpha * beta / (total + 1)) / total
    poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
        (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta + alpha * (
            3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * (
                (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (
                    8 * (1 - x) * (135 * beta - 11)))))
    prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
    prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
    near_mean = prefactor_num / (1 - x) * poly / prefactor_den

    prefactor = -x / xp.sqrt(2 * alpha * beta / total)
    stirling = ((1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha))
                * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta))
                / (1 + 1 / (12 * total) + 1 / (288 * total * total)))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1_den = xp.sqrt(2 * alpha / beta) * total ** 1.5 * axbx * axbx
    term1 = term1_num / term1_den
    term2 = 0.5 * xp.log(alpha / (total * x))
    term3 = xp.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4 = (beta * xp.log(beta / (total * (1 - x)))
             + alpha * xp.log(alpha / (total * x))) ** -1.5
    term1234 = term1 + term2 * (term3 + xp.where(x < mean, term4, -term4))
    far = stirling * prefactor * term1234
    return xp.where((mean - 0.1 * std <= x) & (x <= mean + 0.1 * std), near_mean, far)


_DIRICHLET_GRAD_C = np.array([
    [[[1.003668233, -0.01061107488, -0.0657888334, 0.01201642863],
      [0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033],
      [-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013]],
     [[0.221950385, -0.3187676331, 0.01799915743, 0.01074823814],
      [-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057],
      [0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05]],
     [[-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565],
      [0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181],
      [0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05]]],
    [[[1, -0.02924021934, -0.04438342661, 0.007285809825],
      [0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521],
      [-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149]],
     [[0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273],
      [0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956],
      [-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05]],
     [[0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05],
      [0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05],
      [-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06]]]])


def _dirichlet_grad_array(xp, x, alpha, total, branch_dtype):
    """dirichlet_grad_one on float64 arrays: -(dF/dalpha) / f / (1 - x) for x ~ Beta(alpha,
    total - alpha). The branch is chosen in the tensors' own dtype, as ATen does."""
    beta = total - alpha
    xs, ts = x.astype(branch_dtype), total.astype(branch_dtype)
    boundary = ts * xs * (1 - xs)
    near_zero = (xs <= 0.5) & (boundary < 2.5)
    near_one = (xs >= 0.5) & (boundary < 0.75)
    both_large = (alpha.astype(branch_dtype) > 6) & (beta.astype(branch_dtype) > 6)
    with np.errstate(all='ignore'):
        u = xp.log(x)
        a = xp.log(alpha) - u
        b = xp.log(total) - a
        p, q = xp.zeros_like(x), xp.zeros_like(x)
        for i, pow_u in enumerate((1.0, u, u * u)):
            for j, pow_a in enumerate((1.0, a, a * a)):
                ua = pow_u * pow_a
                cp, cq = _DIRICHLET_GRAD_C[0, i, j], _DIRICHLET_GRAD_C[1, i, j]
                p = p + ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
                q = q + ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
        approx = x * (_digamma(xp, total) - _digamma(xp, alpha)) / beta
        result = p / q * approx
        result = xp.where(both_large, _beta_grad_alpha_mid(xp, x, alpha, beta), result)
        result = xp.where(near_one, -_beta_grad_beta_small(xp, 1 - x, beta, alpha), result)
        result = xp.where(near_zero, _beta_grad_alpha_small(xp, x, alpha, beta), result)
    return result


def _grad_inputs(name, *tensors):
    """The inputs' arrays broadcast together, in float64, with their common dtype."""
    dtypes = {t.dtype for t in tensors}
    if len(dtypes) > 1:
        first = tensors[0].dtype
        other = next(t.dtype for t in tensors if t.dtype != first)
        raise RuntimeError(f'expected scalar type {_word(first)} but found {_word(other)}')
    _check_float(tensors[0], name, half_ok=False)
    xp = _array_module(tensors[0]._data)
    arrays = xp.broadcast_arrays(*(t.detach()._data for t in tensors))
    return xp, [a.astype(np.float64) for a in arrays], tensors[0]._data.dtype


def _standard_gamma_grad(self, output):
    """d output / d self for output ~ Gamma(self, 1) (torch._standard_gamma_grad)."""
    xp, (alpha, x), dtype = _grad_inputs('_standard_gamma_grad_cpu', self, output)
    return Tensor._make(_gamma_grad_array(xp, alpha, x).astype(dtype))


def _dirichlet_grad(x, alpha, total):
    """The reparameterisation gradient of Dirichlet samples x in alpha, given total = the sum of
    the concentrations (torch._dirichlet_grad)."""
    xp, (x64, alpha64, total64), dtype = _grad_inputs('_dirichlet_grad_cpu', x, alpha, total)
    return Tensor._make(_dirichlet_grad_array(xp, x64, alpha64, total64, dtype).astype(dtype))
