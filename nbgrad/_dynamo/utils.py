"""torch._dynamo.utils: the counters scripts print after compiling (nothing compiles here, so
they stay empty)."""
import collections

counters = collections.defaultdict(collections.Counter)
