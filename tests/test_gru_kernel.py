"""The compiled GRU loop against the Python loop and torch.nn.GRU (tgnlib.tgn.gru_kernel)."""

import pytest
import torch

from tgnlib.tgn import gru_kernel
from tgnlib.tgn.inertial import gru

kernel = pytest.mark.skipif(gru_kernel.load() is None, reason="no C++ compiler or ninja: the compiled loop cannot be built")


def run_kernel(x, module):
    gi = torch.nn.functional.linear(x, module.weight_ih_l0, module.bias_ih_l0)
    return gru_kernel.GRUKernelScan.apply(gi, module.weight_hh_l0, module.bias_hh_l0)


@kernel
@pytest.mark.parametrize("shape", [(3, 29, 5, 7), (1, 1, 4, 4), (1, 6, 3, 2)])
def test_compiled_loop_equals_torch_gru_with_its_gradients(shape):
    bsz, t_len, d_in, d = shape
    torch.manual_seed(0)
    module = torch.nn.GRU(d_in, d, batch_first=True).double()
    x = torch.randn(bsz, t_len, d_in, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(bsz, t_len, d, dtype=torch.float64)
    results = {}
    for name, fn in (("torch", lambda: gru(x, module, "torch")), ("kernel", lambda: run_kernel(x, module))):
        out = fn()
        results[name] = (out, *torch.autograd.grad((out * weights).sum(), (x, *module.parameters())))
    for got, want in zip(results["kernel"], results["torch"], strict=True):
        torch.testing.assert_close(got, want)


@kernel
def test_compiled_loop_matches_the_python_loop_in_float32_and_passes_gradcheck():
    torch.manual_seed(1)
    module = torch.nn.GRU(16, 16, batch_first=True)
    x = torch.randn(4, 64, 16, requires_grad=True)
    weights = torch.randn(4, 64, 16)
    outs = {}
    for name, fn in (("loop", lambda: gru(x, module, "loop")), ("kernel", lambda: run_kernel(x, module))):
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
