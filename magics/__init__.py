"""nbgrad.magics: the IPython extension behind `%load_ext nbgrad`.

    %load_ext nbgrad
    %%model mlp --input 32,784      build a model from a cell body, show its summary table
    %nbgrad                         status; %nbgrad device cuda / seed 0 / profile on / rng
    %%profile --sort cpu_time_total one cell's profile table (--trace FILE: a Chrome trace)

Loading registers the magics and a text/html display for nn.Module (PyTorch's repr plus a
folded summary table) and nothing else; `%nbgrad profile on` adds the pre/post_run_cell
callbacks and `profile off` removes them; `%unload_ext nbgrad` removes the magics and every
callback, and `%reload_ext nbgrad` does both (per-cell profiling is then off). The modules:
nbgrad_magics (the Magics class), model_parser (the %%model body, no IPython), model_builder,
summary (the torchinfo-like table), status, cell_profiler, text_output.
"""


def _registered(ipython):
    """The NbgradMagics instance registered on this shell, if any (looked up by class name, so
    that it is found even after this package was reloaded)."""
    instance = ipython.magics_manager.registry.get('NbgradMagics')
    return instance if hasattr(instance, 'cell_profiler') else None


def load_ipython_extension(ipython):
    """Called by `%load_ext nbgrad` (through nbgrad.load_ipython_extension)."""
    from .nbgrad_magics import NbgradMagics
    if _registered(ipython) is not None:   # loaded twice without an unload: no double hooks
        unload_ipython_extension(ipython)
    ipython.register_magics(NbgradMagics(ipython))
    _html_formatter(ipython).for_type(_module_class(), _module_html)


def _html_formatter(ipython):
    return ipython.display_formatter.formatters['text/html']


def _module_class():
    from nbgrad.nn import Module
    return Module


def _module_html(module):
    """nn.Module's text/html while the extension is loaded: PyTorch's repr with the summary
    table folded under it (the text/plain repr stays PyTorch's)."""
    from nbgrad.widgets.module_summary import module_repr_html
    return module_repr_html(module)


def unload_ipython_extension(ipython):
    """Called by `%unload_ext nbgrad`: removes everything load_ipython_extension added."""
    instance = _registered(ipython)
    if instance is None:
        return
    formatter = _html_formatter(ipython)
    if getattr(formatter.type_printers.get(_module_class()), '__name__', None) == '_module_html':
        formatter.pop(_module_class())
    instance.cell_profiler.disable()
    table = ipython.magics_manager.magics
    for kind, magics in instance.magics.items():
        for name, method in magics.items():
            # only ours: IPython's own line magic %profile stays
            if table[kind].get(name) == method:
                del table[kind][name]
    del ipython.magics_manager.registry['NbgradMagics']
