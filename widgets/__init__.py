"""nbgrad.widgets: ipywidgets views of nbgrad's plain data (graphs, gradients, RNG state,
distribution samples, profiles), each with a static fallback. Imported only by notebook code."""
