"""nbgrad.utils.deterministic (PyTorch's torch.utils.deterministic).

fill_uninitialized_memory: while use_deterministic_algorithms(True) is on, memory that would
otherwise be uninitialised (empty, empty_like, new_empty, empty_strided, the new elements of
resize_) is filled with NaN for floating and complex types and with the largest value for
integer and bool types, so that results never depend on leftover memory. True by default."""
fill_uninitialized_memory = True
