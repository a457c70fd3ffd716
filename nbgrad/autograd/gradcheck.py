"""gradcheck / gradgradcheck: compare autograd's Jacobian with central finite differences.

The numerical Jacobian perturbs each input element by +-eps in place (outside autograd) and
measures the change of every output; the analytical one runs one vector-Jacobian product per output
element. Use float64 inputs: float32 differences are too coarse for the default tolerances.

Complex inputs and outputs count as pairs of real numbers (real part, imaginary part): the
Jacobian has a row for each part of a complex input and a column for each part of a complex
output. Autograd's column for the real part of output k is the gradient with grad_output 1 at k,
for the imaginary part with 1j (PyTorch's convention: the gradient of a complex z is
dL/dx + i dL/dy, see _complex_autograd), so this checks the same thing as PyTorch's Wirtinger
checks.

A sparse input's Jacobian is over its stored values (what PyTorch's masked=True checks: the
elements it does not store cannot be perturbed without changing its pattern); sparse outputs are
compared through to_dense().
"""
import warnings

import numpy as np

from .._sparse_coo import SparseCOO, lookup, mask_dense
from .._tensor import Tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck when the analytical and numerical gradients disagree."""


def _as_tuple(x):
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)


def _differentiable(outputs):
    """The positions of the outputs that require grad (the ones the Jacobians are of)."""
    return [j for j, o in enumerate(outputs) if isinstance(o, Tensor) and o.requires_grad]


def _numerical_jacobians(fn, inputs, outputs, positions, eps):
    """J[i][j]: d output j / d input i, shape (input numel, output numel); outputs are fn's
    outputs at `positions`."""
    jacobians = []
    for x in inputs:
        if not (isinstance(x, Tensor) and x.requires_grad):
            jacobians.append(None)
            continue
        data = _perturbable(x)  # perturbed in place, element by element, then restored
        steps = (eps, eps * 1j) if data.dtype.kind == 'c' else (eps,)
        per_output = [np.zeros((data.size * len(steps), _real_size(o)), dtype=np.float64)
                      for o in outputs]
        for k in range(data.size):
            where = np.unravel_index(k, data.shape)
            original = data[where].copy()
            for part, step in enumerate(steps):
                data[where] = original - step
                minus = _evaluate(fn, inputs, positions)
                data[where] = original + step
                plus = _evaluate(fn, inputs, positions)
                data[where] = original
                for j, (p, m) in enumerate(zip(plus, minus)):
                    per_output[j][k * len(steps) + part] = (p - m) / (2 * eps)
        jacobians.append(per_output)
    return jacobians


def _real_size(t):
    """How many real numbers a tensor holds (two per complex element)."""
    return t.numel() * (2 if t.is_complex() else 1)


def _as_reals(a):
    """An array's numbers as float64, flattened, a complex element as its two parts in turn."""
    a = np.asarray(a)
    if a.dtype.kind == 'c':
        return np.stack([a.real, a.imag], -1).reshape(-1).astype(np.float64)
    return a.reshape(-1).astype(np.float64)


def _perturbable(x):
    data = x._data
    return data.values if data.__class__ is SparseCOO else data


def _gradient_rows(x, g):
    """g, the gradient of input x, as one number per element of _perturbable(x)."""
    pattern = x._data
    if pattern.__class__ is SparseCOO:
        g = lookup(g._data, pattern.indices) if g.is_sparse else \
            mask_dense(g._data, pattern).values
        return _as_reals(_host(g))
    g = _host(g._data)
    if pattern.dtype.kind != 'c' and g.dtype.kind == 'c':
        g = g.real
    return _as_reals(g)


def _dense_outputs(fn):
    def dense(*args):
        outs = _as_tuple(fn(*args))
        return tuple(o.to_dense() if isinstance(o, Tensor) and o.is_sparse else o for o in outs)
    return dense


def _evaluate(fn, inputs, positions):
    # grad mode stays on: fn may itself differentiate (gradgradcheck's first derivative)
    outs = _as_tuple(fn(*inputs))
    return [_as_reals(_host(outs[j]._data)) for j in positions]


def _host(a):
    return a if a.__class__ is np.ndarray else a.get()


def _analytical_jacobians(inputs, outputs):
    from .api import grad as autograd_grad
    from .._creation import zeros_like
    differentiable = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    jacobians = {id(x): [np.zeros((_real_size(x) if not x.is_sparse else
                                   _perturbable(x).size * (2 if x.is_complex() else 1),
                                   _real_size(o))) for o in outputs]
                 for x in differentiable}
    for j, out in enumerate(outputs):
        parts = (1, 1j) if out.is_complex() else (1,)
        for k in range(out.numel()):
            for part, unit in enumerate(parts):
                grad_out = zeros_like(out)  # (keeps out's layout: index it by position)
                grad_out._data[np.unravel_index(k, out.shape)] = unit
                grads = autograd_grad(out, differentiable, grad_out, retain_graph=True,
                                      allow_unused=True)
                for x, g in zip(differentiable, grads):
                    if g is not None:
                        jacobians[id(x)][j][:, k * len(parts) + part] = _gradient_rows(x, g)
    return [jacobians.get(id(x)) if isinstance(x, Tensor) and x.requires_grad else None
            for x in inputs]


def _forward_jacobians(func, inputs, outputs, positions):
    """J[i][j] by forward-mode AD (forward_ad): the tangents of the outputs for a tangent that
    is one at one element of one input, zero elsewhere."""
    from . import forward_ad
    from .._creation import zeros_like
    jacobians = []
    for i, x in enumerate(inputs):
        if not (isinstance(x, Tensor) and x.requires_grad):
            jacobians.append(None)
            continue
        per_output = [np.zeros((x.numel(), _real_size(o))) for o in outputs]
        for k in range(x.numel()):
            tangent = zeros_like(x, dtype=x.dtype).detach()
            tangent._data[np.unravel_index(k, tuple(x.shape))] = 1
            with forward_ad.dual_level():
                args = list(inputs)
                args[i] = forward_ad.make_dual(x.detach(), tangent)
                outs = _as_tuple(func(*args))
                for j, p in enumerate(positions):
                    t = forward_ad.unpack_dual(outs[p]).tangent
                    if t is not None:
                        per_output[j][k] = _as_reals(_host(t.detach()._data))
        jacobians.append(per_output)
    return jacobians


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              nondet_tol=0.0, check_undefined_grad=True, check_grad_dtypes=False,
              check_batched_grad=False, check_batched_forward_grad=False, check_forward_ad=False,
              check_backward_ad=True, fast_mode=False, masked=None):
    """True if autograd's gradients of `func` at `inputs` match finite differences."""
    inputs = _as_tuple(inputs)
    for i, x in enumerate(inputs):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype.name not in ('float64',
                                                                                'complex128'):
            warnings.warn(f'Input #{i} requires gradient and is not a double precision floating '
                          f'point. This check will likely fail if all the inputs are not of double '
                          f'precision floating point. ', UserWarning, stacklevel=2)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
        raise ValueError('gradcheck expects at least one input tensor to require gradient, but '
                         'none of the them have requires_grad=True.')
    func = _dense_outputs(func)
    all_outputs = _as_tuple(func(*inputs))
    positions = _differentiable(all_outputs)
    outputs = [all_outputs[j] for j in positions]
    if not outputs:
        # PyTorch's: nothing to differentiate, so the function must not depend on its inputs
        positions = [j for j, o in enumerate(all_outputs) if isinstance(o, Tensor) and
                     (o.is_floating_point() or o.is_complex())]
        numerical = _numerical_jacobians(func, inputs, [all_outputs[j] for j in positions],
                                         positions, eps)
        if any(not np.allclose(n, 0, atol=atol) for per_input in numerical if per_input
               for n in per_input):
            return _fail_or(raise_exception,
                            'Numerical gradient for function expected to be zero')
        return True
    numerical = _numerical_jacobians(func, inputs, outputs, positions, eps)
    checks = []
    if check_backward_ad:
        checks.append(('', _analytical_jacobians(inputs, outputs)))
    if check_forward_ad:
        checks.append((' computed with forward mode',
                       _forward_jacobians(func, inputs, outputs, positions)))
    for mode, analytical in checks:
        for i, (num, ana) in enumerate(zip(numerical, analytical)):
            if num is None:
                continue
            for j, (n, a) in enumerate(zip(num, ana)):
                if not np.allclose(a, n, rtol=rtol, atol=atol):
                    return _fail_or(raise_exception,
                                    f'Jacobian{mode} mismatch for output {j} with respect to '
                                    f'input {i},\nnumerical:{_fmt(n)}\nanalytical:{_fmt(a)}\n')
    if check_undefined_grad:
        _check_backward_runs(outputs, inputs)
    return True


def _fmt(matrix):
    from .._creation import tensor
    return tensor(matrix)


def _check_backward_runs(outputs, inputs):
    """A zero output gradient must give zero (or no) input gradients."""
    from .api import grad as autograd_grad
    from .._creation import zeros_like
    differentiable = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    grads = autograd_grad(outputs, differentiable, [zeros_like(o) for o in outputs],
                          retain_graph=True, allow_unused=True)
    for g in grads:
        if g is not None and g.is_sparse:
            g = g._values()
        if g is not None and bool((g != 0).any()):
            raise GradcheckError('Backward is not reentrant or gives a nonzero gradient for a zero '
                                 'output gradient')


def _fail_or(raise_exception, message):
    if raise_exception:
        raise GradcheckError(message)
    return False


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """gradcheck of the gradient itself (second derivatives through create_graph=True)."""
    from .api import grad as autograd_grad
    from .._dtype import float64
    inputs = _as_tuple(inputs)
    all_outputs = _as_tuple(func(*inputs))
    outputs = [all_outputs[j] for j in _differentiable(all_outputs)]
    if grad_outputs is None:    # PyTorch's: uniform in [-1, 1) from the global generator
        from ..testing import make_tensor
        grad_outputs = tuple(make_tensor(
            o.shape, dtype=o.dtype if o.is_floating_point() or o.is_complex() else float64,
            device=o.device, low=-1, high=1, requires_grad=True,
            noncontiguous=gen_non_contig_grad_outputs) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n_inputs = len(inputs)

    def first_derivative(*args):
        ins, gouts = args[:n_inputs], args[n_inputs:]
        all_outs = _as_tuple(func(*ins))
        outs = [all_outs[j] for j in _differentiable(all_outs)]
        diff_inputs = [x for x in ins if isinstance(x, Tensor) and x.requires_grad]
        grads = autograd_grad(outs, diff_inputs, gouts, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivative, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, check_undefined_grad=False)
