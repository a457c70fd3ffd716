"""Adam (torch.optim.Adam): amsgrad, L2 or decoupled weight decay, maximize."""
from .._creation import zeros_like
from .._tensor import Tensor
from ..ops.complex_ops import view_as_real
from ._functional_util import check_lists, check_state_steps, refuse_grad_scaling
from ._fused_cuda import ADAM
from ._util import (ElementwiseOptimizer, advance, check_betas, check_fused, check_fused_param,
                    check_lr, check_nonnegative, check_supported, decay_and_add_square_,
                    effective_grad, lerp_, new_step, run_entries, scalar)

__all__ = ['Adam', 'adam']


class Adam(ElementwiseOptimizer):
    """Adam, PyTorch's formulation: exp_avg and exp_avg_sq are running averages of the grad and
    its square; param -= lr / (1 - beta1^t) * exp_avg / (sqrt(v) / sqrt(1 - beta2^t) + eps),
    with v = exp_avg_sq, or its running maximum with amsgrad=True."""
    _sparse_name = 'Adam'    # (AdamW's sparse-gradient error says Adam too, as PyTorch's)
    n_scratch = 2
    fused_cuda = ADAM
    _legacy_keys = ('amsgrad', 'maximize', 'foreach', 'capturable', 'differentiable',
                   'decoupled_weight_decay', 'fused')

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        if isinstance(lr, Tensor):
            if foreach and not capturable:
                raise ValueError('lr as a Tensor is not supported for capturable=False and '
                                 'foreach=True')
        check_lr(lr)
        check_nonnegative(lr=lr, eps=eps)
        check_betas(betas)
        check_nonnegative(weight_decay=weight_decay)
        if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
                or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
            raise ValueError('betas must be either both floats or both Tensors')
        for i in (0, 1):
            if isinstance(betas[i], Tensor):
                if not capturable and foreach:
                    raise ValueError(f'betas[{i}] as a Tensor is not supported for '
                                     'capturable=False and foreach=True')
                if betas[i].numel() != 1:
                    raise ValueError(f'Tensor betas[{i}] must be 1-element')
        betas = tuple(b.squeeze() if isinstance(b, Tensor) and b.dim() != 0 else b
                      for b in betas)
        defaults = {'lr': lr, 'betas': betas, 'eps': eps, 'weight_decay': weight_decay,
                    'amsgrad': amsgrad, 'maximize': maximize, 'foreach': foreach,
                    'capturable': capturable, 'differentiable': differentiable, 'fused': fused,
                    'decoupled_weight_decay': decoupled_weight_decay}
        super().__init__(params, defaults)
        check_fused(fused, foreach, differentiable)
        check_supported(self, capturable, differentiable)

    def _init_state(self, group, p):
        state = self.state[p]
        if len(state) == 0:
            if group['fused']:
                check_fused_param(p)
            state['step'] = new_step(p, fused=group['fused'])
            state['exp_avg'] = zeros_like(p)
            state['exp_avg_sq'] = zeros_like(p)
            if group['amsgrad']:
                state['max_exp_avg_sq'] = zeros_like(p)
        return state

    def _prepare(self, group, p):
        state = self._init_state(group, p)
        beta1, beta2 = group['betas']
        tensors, cfg, bumps = _entry(   # (positional: this runs for every parameter)
            p, p.grad, state['exp_avg'], state['exp_avg_sq'], state.get('max_exp_avg_sq'),
            state['step'], group['amsgrad'], beta1, beta2, group['lr'], group['weight_decay'],
            group['eps'], group['maximize'], group['decoupled_weight_decay'])
        return tensors[2:], cfg, bumps

    def _differentiable_step(self, group, p):
        """PyTorch's differentiable branch of _single_tensor_adam, in Tensor ops recorded by
        autograd (the step counter as a tensor, lr and betas may be Tensors in the graph)."""
        state = self._init_state(group, p)
        options = _options(group)
        beta1, beta2 = group['betas']
        lr, eps, weight_decay = group['lr'], group['eps'], group['weight_decay']
        param, exp_avg, exp_avg_sq = p, state['exp_avg'], state['exp_avg_sq']
        grad = p.grad if not options['maximize'] else -p.grad
        step_t = state['step']
        step_t += 1
        if weight_decay != 0:
            if options['decoupled_weight_decay']:
                param.mul_(1 - lr * weight_decay)
            elif isinstance(weight_decay, Tensor) and weight_decay.requires_grad:
                grad = grad.addcmul_(param.clone(), weight_decay)
            else:
                grad = grad.add(param, alpha=weight_decay)
        max_exp_avg_sq = state.get('max_exp_avg_sq')
        if param.is_complex():      # two real numbers per element, as PyTorch's step
            grad, exp_avg, exp_avg_sq, param = (
                view_as_real(t) for t in (grad, exp_avg, exp_avg_sq, param))
            if options['amsgrad']:
                max_exp_avg_sq = view_as_real(max_exp_avg_sq)
        exp_avg.lerp_(grad, 1 - beta1)
        if isinstance(beta2, Tensor) and beta2.requires_grad:
            exp_avg_sq.lerp_(grad.square(), weight=1 - beta2)
        else:
            exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=scalar(1 - beta2))
        step = step_t.clone() if any(isinstance(b, Tensor) and b.requires_grad
                                     for b in (beta1, beta2)) else step_t
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size_neg = (lr / bias_correction1).neg()
        bias_correction2_sqrt = bias_correction2.sqrt()
        v = exp_avg_sq
        if options['amsgrad']:
            max_exp_avg_sq.copy_(max_exp_avg_sq.clone().maximum(exp_avg_sq))
            v = max_exp_avg_sq
        denom = (v.sqrt() / (bias_correction2_sqrt * step_size_neg)).add_(eps / step_size_neg)
        param.addcdiv_(exp_avg.clone(), denom)

    @staticmethod
    def reference(cfg, p, g, exp_avg, exp_avg_sq, *rest):
        """PyTorch's _single_tensor_adam op by op (float16 parameters, see _opmath)."""
        (amsgrad, beta1, beta2, eps, weight_decay, decoupled, maximize, lr, step_size,
         bias_correction2_sqrt) = cfg
        grad = g if not maximize else -g
        if decoupled:
            p.mul_(1 - lr * weight_decay)
        elif weight_decay != 0:
            grad = grad.add(p, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        v = exp_avg_sq
        if amsgrad:
            v = rest[0].maximum_(exp_avg_sq)
        denom = (v.sqrt() / bias_correction2_sqrt).add_(eps)
        p.addcdiv_(exp_avg, denom, value=-step_size)

    @staticmethod
    def kernel(xp, cfg, p, g, exp_avg, exp_avg_sq, *rest):
        (amsgrad, beta1, beta2, eps, weight_decay, decoupled, maximize, lr, step_size,
         bias_correction2_sqrt) = cfg
        if amsgrad:
            max_exp_avg_sq, t0, t1 = rest
        else:
            t0, t1 = rest
        if decoupled:
            p *= 1 - lr * weight_decay
            weight_decay = 0
        g = effective_grad(xp, p, g, weight_decay, maximize, t0)
        lerp_(xp, exp_avg, g, 1 - beta1, t1)
        decay_and_add_square_(xp, exp_avg_sq, g, beta2, t1)
        v = exp_avg_sq
        if amsgrad:
            xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            v = max_exp_avg_sq
        # PyTorch: p += -step_size * exp_avg / (sqrt(v) / bc2_sqrt + eps). Multiplying through
        # by bc2_sqrt gives the same value in two passes fewer.
        xp.sqrt(v, out=t1)
        t1 += eps * bias_correction2_sqrt
        xp.multiply(exp_avg, -(step_size * bias_correction2_sqrt), out=t0)
        t0 /= t1
        p += t0


def _options(group):
    return {'amsgrad': group['amsgrad'], 'beta1': group['betas'][0], 'beta2': group['betas'][1],
            'lr': group['lr'], 'weight_decay': group['weight_decay'], 'eps': group['eps'],
            'maximize': group['maximize'],
            'decoupled_weight_decay': group['decoupled_weight_decay']}


def _entry(p, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step_t, amsgrad, beta1, beta2, lr,
           weight_decay, eps, maximize, decoupled_weight_decay):
    """Advance the step counter; the kernel's entry (see run_entries) for one parameter."""
    step = advance(step_t)
    beta1, beta2, lr = scalar(beta1), scalar(beta2), scalar(lr)
    decoupled = decoupled_weight_decay and weight_decay != 0
    cfg = (amsgrad, beta1, beta2, eps, weight_decay, decoupled, maximize, lr,
           lr / (1 - beta1 ** step), (1 - beta2 ** step) ** 0.5)
    tensors = (p, grad, exp_avg, exp_avg_sq)
    bumps = (2 if decoupled else 1, 1, 2)
    if amsgrad:
        return tensors + (max_exp_avg_sq,), cfg, bumps + (1,)
    return tensors, cfg, bumps


_LISTS = ('exp_avgs', 'exp_avg_sqs', 'max_exp_avg_sqs')


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, foreach=None,
         capturable=False, differentiable=False, fused=None, grad_scale=None, found_inf=None,
         has_complex=False, decoupled_weight_decay=False, *, amsgrad, beta1, beta2, lr,
         weight_decay, eps, maximize):
    """Functional Adam (torch.optim.adam.adam): advances state_steps and updates params and the
    state tensors in place (max_exp_avg_sqs is read only with amsgrad=True)."""
    _functional('adam', params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps,
                capturable, differentiable, grad_scale, found_inf,
                dict(amsgrad=amsgrad, beta1=beta1, beta2=beta2, lr=lr, weight_decay=weight_decay,
                     eps=eps, maximize=maximize, decoupled_weight_decay=decoupled_weight_decay),
                op_by_op=not fused)


def _functional(name, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps,
                capturable, differentiable, grad_scale, found_inf, options, op_by_op):
    from ._functional_util import refuse_differentiable
    refuse_grad_scaling(name, grad_scale, found_inf)
    refuse_differentiable(name, differentiable)
    if capturable:
        raise NotImplementedError(f'{name}(capturable=True) is not supported by nbgrad (it is '
                                  'for CUDA-graph capture); pass capturable=False')
    check_state_steps(state_steps)
    lists = {'grads': grads, 'exp_avgs': exp_avgs, 'exp_avg_sqs': exp_avg_sqs,
             'state_steps': state_steps}
    if options['amsgrad']:
        lists['max_exp_avg_sqs'] = max_exp_avg_sqs
    check_lists(name, params, **lists)
    entries = [_entry(p, grads[i], exp_avgs[i], exp_avg_sqs[i],
                      max_exp_avg_sqs[i] if options['amsgrad'] else None, state_steps[i],
                      **options)
               for i, p in enumerate(params)]
    run_entries(Adam, entries, lambda i, j: f'{name}: {_LISTS[j - 2]}[{i}]', op_by_op=op_by_op)
