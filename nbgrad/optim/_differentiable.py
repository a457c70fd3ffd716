"""The steps of Adagrad, Adadelta, Adamax, ASGD, NAdam, RAdam, RMSprop and Rprop with
differentiable=True (and, run without recording, of half and bfloat16 parameters where the
optimizer has no `reference` step): PyTorch's
_single_tensor_* functions op by op, in Tensor ops that autograd records, so a loss after the
step can be differentiated through it (meta-learning). The op order is PyTorch's, branches for
differentiable included, so float64 results agree bit for bit. (SGD's and Adam's are in their
own modules; the other steps run on arrays, outside autograd.) A complex parameter is stepped
as its real view, as in PyTorch."""
from .._tensor import Tensor
from ..ops.complex_ops import view_as_real
from ._util import advance, scalar


def stepping(rule):
    """An optimizer class's _differentiable_step(group, p) running rule(group, p, grad, state,
    step number) after advancing the step counter (the state made on the first step)."""
    def differentiable_step(optimizer, group, p):
        state = optimizer._state(group, p)
        number = advance(state['step'])
        grad = p.grad if not group['maximize'] else -p.grad
        rule(group, p, grad, state, number)
    return differentiable_step


def _real(*tensors):
    return [view_as_real(t) if isinstance(t, Tensor) and t.is_complex() else t
            for t in tensors]


def _weight_decayed(group, p, grad):
    weight_decay = group['weight_decay']
    return grad if weight_decay == 0 else grad.add(p, alpha=weight_decay)


def adagrad(group, p, grad, state, number):
    grad = _weight_decayed(group, p, grad)
    clr = group['lr'] / (1 + (number - 1) * group['lr_decay'])
    param, grad, state_sum = _real(p, grad, state['sum'])
    state_sum.addcmul_(grad, grad, value=1)
    std = state_sum.sqrt() + group['eps']
    param.addcdiv_(grad, std, value=-clr)


def rmsprop(group, p, grad, state, number):
    grad = _weight_decayed(group, p, grad)
    alpha, lr = group['alpha'], scalar(group['lr'])
    param, grad, square_avg = _real(p, grad, state['square_avg'])
    square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
    if group['centered']:
        (grad_avg,) = _real(state['grad_avg'])
        grad_avg.lerp_(grad, 1 - alpha)
        avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
    else:
        avg = square_avg.sqrt()
    avg = avg.add(group['eps'])
    if group['momentum'] > 0:
        (buf,) = _real(state['momentum_buffer'])
        buf.mul_(group['momentum']).addcdiv_(grad, avg)
        param.add_(buf, alpha=-lr)
    else:
        param.addcdiv_(grad, avg, value=-lr)


def adadelta(group, p, grad, state, number):
    grad = _weight_decayed(group, p, grad)
    rho, eps = group['rho'], group['eps']
    param, grad, square_avg, acc_delta = _real(p, grad, state['square_avg'], state['acc_delta'])
    square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
    std = square_avg.add(eps).sqrt_()
    delta = acc_delta.add(eps).sqrt_().clone()
    delta.div_(std).mul_(grad)
    acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
    param.add_(delta, alpha=-scalar(group['lr']))


def adamax(group, p, grad, state, number):
    from ..ops.shape import cat
    grad = _weight_decayed(group, p, grad)
    beta1, beta2 = group['betas']
    param, grad, exp_avg, exp_inf = _real(p, grad, state['exp_avg'], state['exp_inf'])
    exp_avg.lerp_(grad, 1 - beta1)
    norm_buf = cat([exp_inf.mul_(beta2).unsqueeze(0), grad.abs().add_(group['eps']).unsqueeze_(0)],
                   0)
    exp_inf.copy_(norm_buf.amax(0, keepdim=False))
    clr = group['lr'] / (1 - beta1 ** number)
    param.addcdiv_(exp_avg, exp_inf, value=-clr)


def rprop(group, p, grad, state, number):
    etaminus, etaplus = group['etas']
    step_size_min, step_size_max = group['step_sizes']
    param, grad, prev, step_size = _real(p, grad, state['prev'], state['step_size'])
    sign = grad.mul(prev.clone()).sign()
    sign[sign.gt(0)] = etaplus
    sign[sign.lt(0)] = etaminus
    sign[sign.eq(0)] = 1
    step_size.mul_(sign).clamp_(step_size_min, step_size_max)
    grad = grad.clone()
    grad[sign.eq(etaminus)] = 0
    param.addcmul_(grad.sign(), step_size, value=-1)
    prev.copy_(grad)


def _decayed(group, p, grad):
    """Weight decay, decoupled (the parameter shrunk first) or added to the gradient."""
    weight_decay = group['weight_decay']
    if weight_decay != 0 and group.get('decoupled_weight_decay'):
        p.mul_(1 - group['lr'] * weight_decay)
        return grad
    return _weight_decayed(group, p, grad)


def nadam(group, p, grad, state, number):
    beta1, beta2 = group['betas']
    lr, momentum_decay = group['lr'], group['momentum_decay']
    bias_correction2 = 1 - beta2 ** number
    grad = _decayed(group, p, grad)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (number * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((number + 1) * momentum_decay)))
    mu_product = state['mu_product']
    mu_product *= mu
    param, grad, exp_avg, exp_avg_sq = _real(p, grad, state['exp_avg'], state['exp_avg_sq'])
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    denom = exp_avg_sq.div(bias_correction2).sqrt()
    if not group.get('differentiable'):
        # PyTorch's branch without differentiable (half and bfloat16 steps come here, see
        # ElementwiseOptimizer._steps_op_by_op): the scales as Python numbers
        mu_product_next = float(mu_product) * mu_next
        denom.add_(group['eps'])
        param.addcdiv_(grad, denom, value=-lr * (1.0 - mu) / (1.0 - float(mu_product)))
        param.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))
        return
    denom = denom.add(group['eps'])
    mu_product_next = mu_product * mu_next
    grad = grad * (-lr * (1.0 - mu) / (1.0 - mu_product))
    exp_avg = exp_avg * (-lr * mu_next / (1.0 - mu_product_next))
    param.addcdiv_(grad, denom)
    param.addcdiv_(exp_avg, denom)


def radam(group, p, grad, state, number):
    beta1, beta2 = group['betas']
    lr = group['lr']
    grad = _decayed(group, p, grad)
    param, grad, exp_avg, exp_avg_sq = _real(p, grad, state['exp_avg'], state['exp_avg_sq'])
    exp_avg.lerp_(grad, 1 - beta1)
    exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
    bias_correction1 = 1 - beta1 ** number
    bias_correction2 = 1 - beta2 ** number
    bias_corrected_exp_avg = exp_avg / bias_correction1
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * number * (beta2 ** number) / bias_correction2
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf /
                ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        adaptive_lr = (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add(group['eps'])
        param.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
    else:
        param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)


def asgd(group, p, grad, state, number):
    from .asgd import next_eta_and_mu
    grad = _weight_decayed(group, p, grad)
    param, grad, ax = _real(p, grad, state['ax'])
    eta, mu = state['eta'].item(), state['mu']
    param.mul_(1 - group['lambd'] * eta)
    param.add_(grad, alpha=-eta)
    if mu.item() != 1:
        ax.add_(param.sub(ax).mul_(mu))
    else:
        ax.copy_(param)
    next_eta_and_mu(state['eta'], state['mu'], number, lr=group['lr'], lambd=group['lambd'],
                    alpha=group['alpha'], t0=group['t0'])
