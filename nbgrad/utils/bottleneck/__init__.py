"""nbgrad.utils.bottleneck: `python -m nbgrad.utils.bottleneck script.py [args]` (see __main__)."""
