"""Fake cupy.cuda.compiler: the exception CuPy raises when NVRTC refuses a kernel's source."""


class CompileException(Exception):
    pass
