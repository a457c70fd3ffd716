"""NbgradMagics: the %%model, %nbgrad and %%profile magics (registered by `%load_ext nbgrad`).

Each magic parses its options with IPython's magic_arguments (which also writes the `%%model?`
help from the @argument lines) and hands the work to a module that knows nothing of IPython's
magic machinery: model_parser / model_builder / summary for %%model, status for %nbgrad,
cell_profiler for profiling. A failure is raised as UsageError, which IPython prints as one
line on stderr, without a traceback, and which marks the cell as failed (so "Run all" stops
there); a model is bound to the namespace only once everything succeeded.
"""
import keyword
import os

from IPython.core.error import UsageError
from IPython.core.magic import (Magics, cell_magic, line_magic, magics_class, no_var_expand,
                                output_can_be_silenced)
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from IPython.display import display

import nbgrad

from . import status
from .cell_profiler import (DEFAULT_LIMIT, DEFAULT_SORT, CellProfiler, check_limit,
                            check_sort_key, profile_report)
from .model_builder import (ModelBuildError, build, parse_dtype, parse_shape, random_inputs,
                            summarize_built)
from .model_fit import FitError, Trainer
from .model_parser import ModelSyntaxError, parse
from .summary import summarize
from .text_output import TextOutput

NBGRAD_COMMANDS = ('status', 'device', 'dtype', 'seed', 'profile', 'rng')


def _parse(method, line, magic):
    """parse_argstring, with the magic's name in front of its error message; option values
    lose the quotes around them (IPython's splitting keeps them: --optim "SGD(lr=0.1)")."""
    try:
        args = parse_argstring(method, line)
    except UsageError as e:
        raise UsageError(f'{magic}: {e}') from None
    for key, value in vars(args).items():
        if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and \
                value[0] in '"\'':
            setattr(args, key, value[1:-1])
    return args


@magics_class
class NbgradMagics(Magics):

    def __init__(self, shell):
        super().__init__(shell)
        self.cell_profiler = CellProfiler(shell)

    # -- %%model ------------------------------------------------------------------------------
    # (the name's extra '%': magic_arguments writes usage lines as '%' + name, a line magic's)
    @magic_arguments('%model')
    @argument('name', help='the variable the model is bound to (a class body also binds its '
                           'class, named after NAME in CamelCase: mlp -> Mlp, my_net -> MyNet; '
                           'Net -> NetModule)')
    @argument('--input', metavar='SHAPE', nargs='+',
              help='run one forward on random input of this shape ("32,784", "(32, 784)"; '
                   'several inputs: "(32, 10), (32, 5)") and show the summary table with '
                   'output shapes and sizes')
    @argument('--device', help='move the model (and the --input tensor) to this device')
    @argument('--dtype', help='convert the model (and the --input tensor) to this dtype')
    @argument('--input-dtype', metavar='DTYPE',
              help='dtype of the --input tensor when it differs from the model\'s (int64 for '
                   'an Embedding: the input then holds 0s and 1s)')
    @argument('--seed', type=int, help='nbgrad.manual_seed(SEED) before building, so the '
                                       'initial weights (and the --input tensor) are reproducible')
    @argument('--graph', action='store_true',
              help='show the computation graph of one forward pass (GraphView) on the --input '
                   'tensor, or on the first batch of --fit')
    @argument('--fit', metavar='DATA',
              help='train the model inline on DATA: a DataLoader, a Dataset, or a pair of '
                   'tensors, any expression of the notebook\'s names (quote it when it has '
                   'spaces: --fit "(x, y)"); shows a live TrainingView. Interrupting the kernel '
                   'stops training and keeps the weights trained so far')
    @argument('--val', metavar='DATA', help='--fit: validation data (the same forms), '
                                             'evaluated after each epoch')
    @argument('--epochs', type=int, default=1, metavar='N', help='--fit: epochs (default 1)')
    @argument('--optim', metavar='"CLASS(ARGS)"',
              help='--fit: the optimizer, an nbgrad.optim class called without the parameters '
                   '(default "Adam(lr=1e-3)")')
    @argument('--loss', metavar='NAME',
              help='--fit: a function of nn.functional (cross_entropy, mse_loss...) or a loss '
                   'class of nn (default: cross_entropy for integer targets, else mse_loss)')
    @argument('--batch-size', type=int, default=32, metavar='N',
              help='--fit/--val: batch size when DATA is a Dataset or tensors (default 32)')
    @argument('-o', '--return', dest='return_model', action='store_true',
              help='also return the model (the cell\'s Out value)')
    @no_var_expand
    @output_can_be_silenced
    @cell_magic
    def model(self, line, cell):
        """Build an nbgrad model from the cell body and bind it to NAME.

        The body is either one layer expression per line (an nn.Sequential; `name = Layer(...)`
        names a layer), or a class body: layer attributes (`fc1 = Linear(784, 128)`) and
        `def forward(self, x)`, which becomes an nn.Module subclass (see NAME) and an instance.
        nbgrad.nn's classes are usable unqualified (Linear, ReLU, Conv2d...), as are nn, F
        (nn.functional) and torch (nbgrad), besides every name of the notebook. A ';' ending the
        body hides the summary.

            %%model mlp --input 32,784 --seed 0
            Flatten()
            Linear(784, hidden)
            ReLU()
            Linear(hidden, 10)
        """
        args = _parse(self.model, line, '%%model')
        name = args.name
        if not name.isidentifier() or keyword.iskeyword(name):
            raise UsageError(f'%%model: NAME must be a Python name, not {name!r}')
        prefix = f'%%model {name}: '
        try:
            spec = parse(cell)
            device = nbgrad.device(args.device) if args.device else None
            dtype = parse_dtype(args.dtype) if args.dtype else None
            input_dtype = parse_dtype(args.input_dtype) if args.input_dtype else dtype
            # nargs='+': `--input (32, 784)` arrives as two words
            shapes = parse_shape(' '.join(args.input)) if args.input else None
        except (ModelSyntaxError, ValueError, RuntimeError, TypeError) as e:
            raise UsageError(prefix + str(e)) from None
        if args.seed is not None:
            nbgrad.manual_seed(args.seed)
        inputs = None
        try:
            # everything is built into locals: the namespace changes only after success
            built = build(spec, name, self.shell.user_ns, cell, device, dtype)
            if shapes is None:
                summary = summarize(built.model)
            else:
                try:
                    inputs = random_inputs(shapes, device, input_dtype)
                except Exception as e:
                    raise ModelBuildError(None, None, f'--input: {e}') from None
                summary = summarize_built(built, spec, name, cell, inputs)
        except ModelBuildError as e:
            raise UsageError(prefix + str(e)) from None
        trainer = self._trainer(args, built.model, prefix) if args.fit else None
        graph = self._graph(args, built.model, inputs, trainer, prefix) if args.graph else None
        self.shell.user_ns[name] = built.model
        if built.cls is not None:
            self.shell.user_ns[built.class_name] = built.cls
        if not spec.silenced:       # (';' hides the summary; what an option asks for shows)
            display(summary)
        if graph is not None:
            display(graph)
        if trainer is not None:
            self._fit(trainer, name)
        return built.model if args.return_model else None

    def _evaluate(self, option, expression, prefix):
        try:
            return eval(expression, self.shell.user_ns)
        except Exception as e:
            raise UsageError(f'{prefix}{option} {expression}: {type(e).__name__}: {e}') from None

    def _trainer(self, args, model, prefix):
        """A checked Trainer (its first batch ran through model and loss), before anything is
        bound: a --fit that cannot work fails the cell with the namespace unchanged."""
        train = self._evaluate('--fit', args.fit, prefix)
        val = self._evaluate('--val', args.val, prefix) if args.val else None
        try:
            return Trainer(model, train, args.epochs, args.optim, args.loss, self.shell.user_ns,
                           val=val, batch_size=args.batch_size)
        except FitError as e:
            raise UsageError(prefix + str(e)) from None

    def _graph(self, args, model, inputs, trainer, prefix):
        if inputs is None and trainer is not None:
            inputs = (trainer.first_inputs,)
        if inputs is None:
            raise UsageError(f'{prefix}--graph draws one forward pass: give --input SHAPE or '
                             f'--fit DATA')
        from nbgrad.widgets import GraphView
        try:
            return GraphView(model, inputs[0] if len(inputs) == 1 else inputs)
        except Exception as e:
            raise UsageError(f'{prefix}--graph: {type(e).__name__}: {e}') from None

    def _fit(self, trainer, name):
        from nbgrad.widgets import TrainingView
        view = TrainingView(total=trainer.epochs, steps_per_epoch=trainer.steps_per_epoch,
                            title=f'{name}: {trainer.loss_name}, '
                                  f'{type(trainer.optimizer).__name__}')
        view.show()
        outcome = trainer.run(view)
        view.flush()
        if outcome == 'interrupted':
            print(f'Training interrupted: {name} keeps the weights trained so far.')

    # -- %nbgrad ------------------------------------------------------------------------------
    @magic_arguments()
    @argument('command', nargs='?', default='status',
              help='status (the default: version, device, dtype, CUDA, memory); '
                   'device [cpu|cuda|cuda:N]; dtype [float32|float64...]; seed N; '
                   'profile on|off (profile every following cell); rng (generator states)')
    @argument('value', nargs='?', help="the command's value")
    @argument('--sort', help=f'profile on: sort the table by this key (default {DEFAULT_SORT})')
    @argument('--limit', type=int, help=f'profile on: rows shown (default {DEFAULT_LIMIT})')
    @line_magic
    def nbgrad(self, line):
        """nbgrad's state and settings for this notebook.

            %nbgrad                 status: version, default device and dtype, CUDA, memory
            %nbgrad device cuda     nbgrad.set_default_device('cuda')
            %nbgrad dtype float64   nbgrad.set_default_dtype(nbgrad.float64)
            %nbgrad seed 0          nbgrad.manual_seed(0) (every generator)
            %nbgrad profile on      show the profile of every following cell that runs ops
            %nbgrad profile off
            %nbgrad rng             the CPU and CUDA generators: seeds and state fingerprints
        """
        args = _parse(self.nbgrad, line, '%nbgrad')
        command, value = args.command, args.value
        if command not in NBGRAD_COMMANDS:
            raise UsageError(f'%nbgrad: unknown command {command!r}; one of: '
                             f'{", ".join(NBGRAD_COMMANDS)}')
        handler = getattr(self, f'_nbgrad_{command}')
        try:
            handler(value, args)
        except (ValueError, TypeError, RuntimeError) as e:
            raise UsageError(f'%nbgrad {command}: {e}') from None

    def _nbgrad_status(self, value, args):
        display(TextOutput(status.status_text()))

    def _nbgrad_rng(self, value, args):
        from nbgrad.widgets import RNGView
        display(RNGView())

    def _nbgrad_device(self, value, args):
        if value is None:
            print(f'default device: {nbgrad.get_default_device()}')
            return
        device = nbgrad.device(value)
        if device.type == 'cuda':
            if not nbgrad.cuda.is_available():
                raise RuntimeError(f'CUDA is {status.cuda_state()}; the default device stays '
                                   f'{nbgrad.get_default_device()}')
            if device.index is not None and device.index >= nbgrad.cuda.device_count():
                raise ValueError(f'there is no {device} ({nbgrad.cuda.device_count()} CUDA '
                                 f'device(s)); the default device stays '
                                 f'{nbgrad.get_default_device()}')
        elif device.type != 'cpu':
            raise ValueError(f"nbgrad runs on 'cpu' and 'cuda' devices, not {device.type!r}")
        nbgrad.set_default_device(device)

    def _nbgrad_dtype(self, value, args):
        if value is None:
            print(f'default dtype: {nbgrad.get_default_dtype()}')
            return
        nbgrad.set_default_dtype(parse_dtype(value))

    def _nbgrad_seed(self, value, args):
        try:
            seed = int(value)
        except (TypeError, ValueError):
            raise ValueError(f'takes an integer seed (%nbgrad seed 0), not {value!r}') from None
        nbgrad.manual_seed(seed)

    def _nbgrad_profile(self, value, args):
        if value == 'on':
            sort_by = check_sort_key(args.sort) if args.sort else None
            self.cell_profiler.enable(sort_by, check_limit(args.limit))
        elif value == 'off':
            self.cell_profiler.disable()
        else:
            raise ValueError(f'takes on or off, not {value!r}')

    # -- %%profile ----------------------------------------------------------------------------
    @magic_arguments('%profile')
    @argument('--sort', default=DEFAULT_SORT, metavar='KEY',
              help=f'sort the table by this key (default {DEFAULT_SORT}; also cpu_time_total, '
                   f'count, cpu_memory_usage, cuda_time_total...)')
    @argument('--limit', type=int, default=DEFAULT_LIMIT, metavar='N',
              help=f'rows shown (default {DEFAULT_LIMIT})')
    @argument('--trace', metavar='FILE',
              help='also write a Chrome trace (open it in Perfetto or chrome://tracing)')
    @argument('--modules', action='store_true',
              help='also record nn.Module calls (profile(with_modules=True)) for the view\'s '
                   'per-module breakdown; their backward hooks add a few ops of their own')
    @no_var_expand
    @cell_magic
    def profile(self, line, cell):
        """Run the cell under nbgrad.profiler.profile and show its table of ops (PyTorch's
        key_averages().table()); --trace writes the events as a Chrome trace.

            %%profile --sort cpu_time_total --limit 5 --trace step.json
            loss = model(x).sum()
            loss.backward()
        """
        args = _parse(self.profile, line, '%%profile')
        try:
            check_sort_key(args.sort)
            check_limit(args.limit)
        except ValueError as e:
            raise UsageError(f'%%profile: {e}') from None
        from nbgrad.profiler import profile
        # one profiler records at a time: this cell's per-cell profile (profile on) gives way
        self.cell_profiler.pause()
        try:
            with profile(with_modules=args.modules, with_flops=True) as prof:
                result = self.shell.run_cell(cell, store_history=False)
        finally:
            self.cell_profiler.resume()
        report = profile_report(prof, args.sort, args.limit)
        display(report if report is not None else TextOutput('(no nbgrad op ran in this cell)'))
        if args.trace:
            try:
                prof.export_chrome_trace(args.trace)
            except OSError as e:
                raise UsageError(f'%%profile: cannot write the trace to {args.trace!r}: {e}') \
                    from None
            print(f'Chrome trace written to {os.path.abspath(args.trace)}')
        if not result.success:
            # run_cell showed the cell's traceback; fail this cell too, so "Run all" stops
            error = result.error_in_exec or result.error_before_exec
            raise UsageError(f'%%profile: the cell raised {type(error).__name__} (see above); '
                             f'the profile shows what ran before it')
