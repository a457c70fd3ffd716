"""fx.experimental: graph passes built on fx (optimization: conv/linear + batch norm fusion,
dropout removal)."""
