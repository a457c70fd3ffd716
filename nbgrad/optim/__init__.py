"""nbgrad.optim: PyTorch's optimizers (torch.optim) and learning-rate schedulers.

Every optimizer follows the math of PyTorch's for-loop implementation, keeps its state under
PyTorch's names (step as a tensor, exp_avg, exp_avg_sq, momentum_buffer...) and reads and
writes PyTorch's state_dict layout. Steps update the parameters in place on the raw arrays, under
no_grad, bumping their version counters as PyTorch's in-place ops do."""
from .optimizer import Optimizer
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adagrad import Adagrad
from .adam import Adam
from .adamax import Adamax
from .adamw import AdamW
from .asgd import ASGD
from .lbfgs import LBFGS
from .muon import Muon
from .nadam import NAdam
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam
from ._stateless import swap_in_optimizer_params_and_state
from . import lr_scheduler
from . import swa_utils
from importlib import import_module as _import_module

_import_module(__name__ + '._functional')   # nbgrad.optim._functional, as torch's (not in __all__)

__all__ = ['Adadelta', 'Adafactor', 'Adagrad', 'Adam', 'Adamax', 'AdamW', 'ASGD', 'LBFGS', 'lr_scheduler',
           'Muon', 'NAdam', 'Optimizer', 'RAdam', 'RMSprop', 'Rprop', 'SGD', 'SparseAdam',
           'swap_in_optimizer_params_and_state', 'swa_utils']
