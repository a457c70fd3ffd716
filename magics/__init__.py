"""nbgrad.magics: the IPython extension behind `%load_ext nbgrad`.

The magics themselves (%%model, %nbgrad, %%profile) arrive with the notebook-layer issue; loading
the extension already works and registers nothing yet.
"""


def load_ipython_extension(ipython):
    """Called by `%load_ext nbgrad` (through nbgrad.load_ipython_extension)."""


def unload_ipython_extension(ipython):
    """Called by `%unload_ext nbgrad`: removes everything load_ipython_extension added."""
