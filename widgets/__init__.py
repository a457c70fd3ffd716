"""nbgrad.widgets: ipywidgets views of nbgrad's plain data, each with a static fallback (text and
HTML/SVG) for front ends without nbgrad's JupyterLab extension. Imported only by notebook code.

    GraphView(loss) / GraphView(model, example_input)   the computation graph
    GradientView(model)          gradient norms and histograms per parameter, live in training
    TrainingView(total=epochs)   loss and metric curves with progress (%%model --fit uses it)
    ProfilerView(prof)           a profile's ops, top-ops chart and per-module breakdown
    RNGView()                    every generator's seed and state, snapshots, restore
    DistributionView(Normal)     samples against the density, parameters on sliders

Each class lives in its own module and is imported on first use (so `import nbgrad.widgets`
costs nothing until a widget is made).
"""
import importlib

_HOMES = {
    'GraphView': 'graph_view',
    'GradientView': 'gradient_view',
    'TrainingView': 'training_view',
    'ProfilerView': 'profiler_view',
    'RNGView': 'rng_view',
    'DistributionView': 'distribution_view',
    'module_summary_html': 'module_summary',
    'module_summary_text': 'module_summary',
}
__all__ = list(_HOMES)


def __getattr__(name):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'nbgrad.widgets' has no attribute {name!r}")
    value = getattr(importlib.import_module(f'{__name__}.{home}'), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
