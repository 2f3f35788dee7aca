"""The compiled GRU loop (tgnlib.tgn.gru_kernel) against the Python loop; against torch.nn.GRU in test_tgn.py."""

import pytest
import torch

from tgnlib.tgn import gru_kernel
from tgnlib.tgn.inertial import gru

kernel = pytest.mark.skipif(gru_kernel.load() is None, reason="no C++ compiler or ninja: the compiled loop cannot be built")


@kernel
def test_compiled_loop_matches_the_python_loop_in_float32_and_passes_gradcheck():
    torch.manual_seed(1)
    module = torch.nn.GRU(16, 16, batch_first=True)
    x = torch.randn(4, 64, 16, requires_grad=True)
    weights = torch.randn(4, 64, 16)
    outs = {}
    for name, fn in (("loop", lambda: gru(x, module, "loop")), ("kernel", lambda: gru(x, module, "compiled"))):
        out = fn()
        outs[name] = (out, *torch.autograd.grad((out * weights).sum(), (x, *module.parameters())))
    for got, want in zip(outs["kernel"], outs["loop"], strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    g = torch.Generator().manual_seed(2)
    args = (torch.randn(2, 5, 9, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(9, 3, generator=g, dtype=torch.float64, requires_grad=True),
            torch.randn(9, generator=g, dtype=torch.float64, requires_grad=True))
    assert torch.autograd.gradcheck(gru_kernel.GRUKernelScan.apply, args)


def test_a_failed_build_warns_and_returns_none(monkeypatch):
    from torch.utils import cpp_extension

    def no_compiler(*args, **kwargs):
        raise RuntimeError("Ninja is required to load C++ extensions")

    monkeypatch.setattr(cpp_extension, "load_inline", no_compiler)
    gru_kernel.load.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="Ninja is required"):
            assert gru_kernel.load() is None
    finally:
        gru_kernel.load.cache_clear()
