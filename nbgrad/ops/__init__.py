"""Op implementations: each op is a small class (forward on arrays, backward in Tensor ops)."""
