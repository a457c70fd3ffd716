"""Functional interface (torch.optim._functional): the optimizers' functional forms, each
defined next to its class (nbgrad.optim.adam.adam...), and sparse_adam."""
import math

from .._tensor import Tensor
from .adadelta import adadelta
from .adagrad import adagrad
from .adam import adam
from .adamax import adamax
from .adamw import adamw
from .asgd import asgd
from .nadam import nadam
from .radam import radam
from .rmsprop import rmsprop
from .rprop import rprop
from .sgd import sgd
from .sparse_adam import _update

__all__ = ['adadelta', 'adagrad', 'adam', 'adamax', 'adamw', 'asgd', 'math', 'nadam', 'radam',
           'rmsprop', 'rprop', 'sgd', 'sparse_adam', 'Tensor']


def sparse_adam(params, grads, exp_avgs, exp_avg_sqs, state_steps, *, eps, beta1, beta2, lr,
                maximize):
    """Functional SparseAdam: state_steps are ints (this update's step number, advanced by the
    caller, as in PyTorch); the state and the parameter change at the gradient's rows only."""
    for i, param in enumerate(params):
        _update(param, grads[i], exp_avgs[i], exp_avg_sqs[i], state_steps[i], beta1=beta1,
                beta2=beta2, lr=lr, eps=eps, maximize=maximize)
