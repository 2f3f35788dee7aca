import copy
import itertools

import pytest
import torch
from torch.nn import functional as F

from tgnlib.tgn import TGNConfig, TGNLanguageModel
from tgnlib.tgn.attention import CausalSelfAttention, attend_rows
from tgnlib.tgn import gru_kernel
from tgnlib.tgn.inertial import _GRUScan, gru, parallel_scan, scan, sequential_scan
from tgnlib.tgn.model import TGNBlock

VARIANTS = [dict(mode=m, inertial=i) for m, i in itertools.product(("tgn", "inertial", "attention", "transformer"), ("gru", "mamba"))]
VARIANTS.append(dict(mode="tgn", inertial="mamba", gate="hard", gate_bias=0.3))
VARIANTS.append(dict(mode="tgn", inertial="gru", gate="capacity", capacity=0.5))


def model(seed=0, **kw):
    torch.manual_seed(seed)
    return TGNLanguageModel(TGNConfig(vocab_size=50, context=24, d_model=32, n_layers=2, n_heads=4, **kw)).eval()


@pytest.mark.parametrize("kw", VARIANTS, ids=lambda kw: "-".join(str(v) for v in kw.values()))
def test_causality_changing_a_later_token_never_changes_earlier_outputs(kw):
    m = model(**kw)
    x = torch.randint(0, 50, (2, 20), generator=torch.Generator().manual_seed(1))
    for t in (0, 7, 18):
        y = x.clone()
        y[:, t + 1] = (y[:, t + 1] + 1) % 50
        with torch.no_grad():
            a, b = m(x).logits, m(y).logits
        torch.testing.assert_close(a[:, : t + 1], b[:, : t + 1], rtol=0, atol=1e-5)
        assert not torch.allclose(a[:, t + 1 :], b[:, t + 1 :])


def test_gate_is_in_unit_interval_and_loss_adds_lambda_mean_gate():
    m = model(mode="tgn", lam=0.3, gate_bias=-1.0)
    x = torch.randint(0, 50, (3, 16))
    out = m(x, x.roll(-1, 1))
    gates = torch.stack([s.gate_soft for s in out.gates])
    assert (gates >= 0).all() and (gates <= 1).all()
    torch.testing.assert_close(out.loss - out.ce, 0.3 * gates.mean())
    assert out.gate_rate == pytest.approx(float(gates.detach().mean()), rel=1e-6)


@pytest.mark.parametrize("inertial", ["gru", "mamba"])
def test_closed_gate_is_the_inertial_stream_and_open_gate_the_attention_path(inertial):
    cfg = dict(vocab_size=50, context=24, d_model=32, n_layers=1, n_heads=4, inertial=inertial)
    torch.manual_seed(0)
    tgn = TGNBlock(TGNConfig(mode="tgn", **cfg)).eval()
    x = torch.randn(2, 12, 32)
    for bias, mode in ((-1e4, "inertial"), (1e4, "attention")):
        other = TGNBlock(TGNConfig(mode=mode, **cfg)).eval()
        other.load_state_dict({k: v for k, v in tgn.state_dict().items() if k in other.state_dict()})
        with torch.no_grad():
            tgn.gate.bias.fill_(bias)
            torch.testing.assert_close(tgn(x)[0], other(x)[0])


def test_attention_mode_is_the_transformer():
    a, t = model(seed=3, mode="attention"), model(seed=3, mode="transformer")
    x = torch.randint(0, 50, (2, 10))
    torch.testing.assert_close(a(x).logits, t(x).logits)


def test_sparse_rows_equal_dense_attention_on_those_rows():
    torch.manual_seed(0)
    attn = CausalSelfAttention(32, 4).eval()
    x = torch.randn(3, 20, 32)
    rows = torch.rand(3, 20, generator=torch.Generator().manual_seed(2)) < 0.3
    rows[2] = False  # a sample with no open gate
    with torch.no_grad():
        dense = attn(x)
        sparse, flops = attn.forward_rows(x, rows)
    torch.testing.assert_close(sparse[rows], dense[rows])
    assert (sparse[~rows] == 0).all()
    expected = sum(4.0 * 32 * (t + 1) for b in range(3) for t in range(20) if rows[b, t])
    assert flops == pytest.approx(expected)


def test_sparse_rows_keep_the_last_position_when_another_sample_has_more_open_rows():
    # One sample with every row open, one with rows 2 and 5 (5 = its last position): the second sample's
    # padding slots point at position t-1 and once overwrote the real output there with zeros.
    torch.manual_seed(0)
    attn = CausalSelfAttention(16, 2).eval()
    x = torch.randn(2, 6, 16)
    rows = torch.zeros(2, 6, dtype=torch.bool)
    rows[0] = True
    rows[1, [2, 5]] = True
    with torch.no_grad():
        dense = attn(x)
        for _ in range(5):  # scatter order is not fixed: repeat
            sparse, _ = attn.forward_rows(x, rows)
            torch.testing.assert_close(sparse[rows], dense[rows])
            assert (sparse[~rows] == 0).all()


def test_sparse_rows_gradients_equal_dense_gradients_on_open_rows():
    torch.manual_seed(1)
    attn = CausalSelfAttention(16, 2)
    x = torch.randn(2, 6, 16, requires_grad=True)
    rows = torch.zeros(2, 6, dtype=torch.bool)
    rows[0] = True
    rows[1, [2, 5]] = True
    sparse, _ = attn.forward_rows(x, rows)
    (sparse * rows[..., None]).sum().backward()
    g_sparse = x.grad.clone()
    x.grad = None
    (attn(x) * rows[..., None]).sum().backward()
    torch.testing.assert_close(g_sparse, x.grad)


@pytest.mark.parametrize("chunks", [1, 3, 50])
def test_attend_rows_equals_dense_causal_attention_at_those_positions(chunks):
    g = torch.Generator().manual_seed(5)
    q_all, k, v = (torch.randn(2, 3, 30, 8, generator=g) for _ in range(3))
    dense = F.scaled_dot_product_attention(q_all, k, v, is_causal=True)
    positions = torch.tensor([[0, 4, 5, 17, 29], [2, 3, 11, 12, 20]])
    q = q_all.gather(2, positions[:, None, :, None].expand(-1, 3, -1, 8))
    rows = attend_rows(q, k, v, positions, chunks=chunks)
    torch.testing.assert_close(rows, dense.gather(2, positions[:, None, :, None].expand(-1, 3, -1, 8)))


def test_hard_gate_counts_fewer_flops_than_dense():
    m = model(mode="tgn", gate="hard", gate_bias=0.0)
    dense = model(mode="transformer")
    x = torch.randint(0, 50, (2, 24))
    with torch.no_grad():
        for block in m.blocks:
            block.gate.bias.fill_(-5.0)  # closed everywhere
        assert m(x).attention_flops == 0.0 and dense(x).attention_flops > 0


def test_capacity_router_opens_its_capacity_and_learns_where_it_ran():
    torch.manual_seed(0)
    m = model(mode="tgn", gate="capacity", capacity=0.25, lam=0.0)
    x = torch.randint(0, 50, (8, 24))
    first = m.train()(x, x)  # the gate weight starts at zero: every logit equals the threshold, so everything is open
    assert all(bool((s.gate > 0).all()) for s in first.gates)
    first.loss.backward()
    assert all(float(b.gate.weight.grad.abs().sum()) > 0 for b in m.blocks)  # the router learns from the rows it ran
    with torch.no_grad():
        for b in m.blocks:
            b.gate.weight.normal_(std=0.5)  # a router that ranks tokens
        m.train()
        for _ in range(60):  # the threshold follows the quantile of past batches
            m(torch.randint(0, 50, (8, 24)))
    m.eval()
    with torch.no_grad():
        out = m(torch.randint(0, 50, (64, 24)))
    opened = torch.stack([(s.gate > 0).float().mean() for s in out.gates])
    assert torch.all((opened - 0.25).abs() < 0.08), opened
    assert 0 < out.attention_flops < model(mode="transformer")(torch.randint(0, 50, (64, 24))).attention_flops


def test_capacity_router_is_causal_in_training_too():
    # Mixture-of-Depths' top-k over the sequence lets later tokens decide which earlier ones attend; the
    # threshold from past batches does not: changing the last token leaves every earlier output unchanged
    torch.manual_seed(1)
    m = model(mode="tgn", gate="capacity", capacity=0.3)
    with torch.no_grad():
        for b in m.blocks:
            b.gate.weight.normal_(std=0.5)
            b.threshold.fill_(0.0)
    x = torch.randint(0, 50, (4, 20))
    y = x.clone()
    y[:, -1] = (y[:, -1] + 1) % 50
    a, b = copy.deepcopy(m).train(), copy.deepcopy(m).train()
    torch.testing.assert_close(a(x).logits[:, :-1], b(y).logits[:, :-1])
    with pytest.raises(ValueError, match="capacity=1.5"):
        TGNConfig(gate="capacity", capacity=1.5)


@pytest.mark.parametrize("shape", [(2, 33, 5), (3, 64, 4, 2)])
def test_parallel_scan_equals_sequential_recurrence(shape):
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(*shape, generator=g, dtype=torch.float64), torch.randn(*shape, generator=g, dtype=torch.float64)
    torch.testing.assert_close(parallel_scan(a, b), sequential_scan(a, b))
    torch.testing.assert_close(scan(a, b, "parallel"), scan(a, b, "sequential"))
    with pytest.raises(ValueError, match="'fft'"):
        scan(a, b, "fft")


def test_sequential_scan_gradient_equals_autograd_through_the_recurrence():
    g = torch.Generator().manual_seed(1)
    a = torch.rand(2, 17, 3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, 17, 3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(2, 17, 3, 2, generator=g, dtype=torch.float64)
    h, states = torch.zeros(2, 3, 2, dtype=torch.float64), []
    for t in range(17):
        h = a[:, t] * h + b[:, t]
        states.append(h)
    reference = torch.stack(states, 1)
    grads_ref = torch.autograd.grad((reference * weights).sum(), (a, b))
    ours = sequential_scan(a, b)
    grads = torch.autograd.grad((ours * weights).sum(), (a, b))
    torch.testing.assert_close(ours, reference)
    for got, want in zip(grads, grads_ref):
        torch.testing.assert_close(got, want)
    assert torch.autograd.gradcheck(sequential_scan, (a[:1, :6, :2, :1].detach().requires_grad_(),
                                                      b[:1, :6, :2, :1].detach().requires_grad_()))


@pytest.mark.parametrize("shape", [(3, 29, 5, 7), (1, 1, 4, 4), (1, 6, 3, 2)])
def test_gru_loops_equal_torch_gru_with_their_gradients(shape):
    bsz, t_len, d_in, d = shape
    torch.manual_seed(0)
    module = torch.nn.GRU(d_in, d, batch_first=True).double()
    x = torch.randn(bsz, t_len, d_in, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(bsz, t_len, d, dtype=torch.float64)
    results = {}
    loops = ("loop", "compiled") if gru_kernel.load() is not None else ("loop",)  # compiled: where a C++ compiler builds it
    for method in ("torch", *loops):
        out = gru(x, module, method)
        results[method] = (out, *torch.autograd.grad((out * weights).sum(), (x, *module.parameters())))
    assert results["torch"][0].shape == (bsz, t_len, d)
    for method in loops:
        for got, want in zip(results[method], results["torch"], strict=True):
            torch.testing.assert_close(got, want)
    torch.testing.assert_close(gru(x, module), results["loop"][0])  # "auto" is a loop on the CPU when training


@pytest.mark.parametrize("builds", [True, False])
def test_gru_auto_takes_a_loop_to_train_and_the_module_to_evaluate(monkeypatch, builds):
    module = torch.nn.GRU(3, 4, batch_first=True)
    x = torch.randn(2, 5, 3)
    calls = []
    monkeypatch.setattr(_GRUScan, "apply", lambda *a: calls.append("loop") or torch.zeros(2, 5, 4))
    monkeypatch.setattr(gru_kernel.GRUKernelScan, "apply", lambda *a: calls.append("compiled") or torch.zeros(2, 5, 4))
    monkeypatch.setattr(gru_kernel, "load", lambda: object() if builds else None)
    train = "compiled" if builds else "loop"
    gru(x, module)  # the module's weights require grad: a backward may follow
    assert calls == [train]
    with torch.no_grad():
        out = gru(x, module)
    assert calls == [train] and out.shape == (2, 5, 4)
    torch.testing.assert_close(out, module(x)[0].detach())
    module.requires_grad_(False)
    gru(x, module)  # nothing to differentiate
    assert calls == [train]
    gru(x, module, "loop")  # an explicit method is obeyed
    assert calls == [train, "loop"]
    if builds:
        gru(x, module, "compiled")
        assert calls == [train, "loop", "compiled"]
    else:
        with pytest.raises(RuntimeError, match="could not be built"):
            gru(x, module, "compiled")


def test_gru_loop_backward_passes_gradcheck_and_refuses_what_it_does_not_run():
    g = torch.Generator().manual_seed(2)
    gi = torch.randn(2, 5, 9, generator=g, dtype=torch.float64, requires_grad=True)
    w_hh = torch.randn(9, 3, generator=g, dtype=torch.float64, requires_grad=True)
    b_hh = torch.randn(9, generator=g, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(_GRUScan.apply, (gi, w_hh, b_hh))
    module = torch.nn.GRU(3, 3, batch_first=True)
    with pytest.raises(ValueError, match="'cudnn'"):
        gru(torch.zeros(1, 2, 3), module, "cudnn")
    with pytest.raises(ValueError, match="one-layer"):
        gru(torch.zeros(1, 2, 3), torch.nn.GRU(3, 3, num_layers=2, batch_first=True))


def reference_selective_scan(u, delta, A, B, C, D, delta_softplus):
    """mamba-ssm's documented semantics (``selective_scan_ref``) for a variable B, C of shape (B, N, L)."""
    delta = F.softplus(delta) if delta_softplus else delta
    decay = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    drive = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    state, ys = torch.zeros(u.shape[0], A.shape[0], A.shape[1], dtype=u.dtype), []
    for i in range(u.shape[2]):
        state = decay[:, :, i] * state + drive[:, :, i]
        ys.append(torch.einsum("bdn,bn->bd", state, C[:, :, i]))
    return torch.stack(ys, dim=2) + u * D[:, None]


def test_mamba_ssm_kernel_path_computes_the_same_layer(monkeypatch):
    from tgnlib.tgn import inertial

    torch.manual_seed(0)
    rec = inertial.SelectiveRecurrence(12, 4).double()
    with torch.no_grad():
        rec.log_a.add_(0.3 * torch.randn_like(rec.log_a))
        rec.skip.mul_(torch.rand_like(rec.skip))
    x = torch.randn(2, 15, 12, dtype=torch.float64)
    ours = rec(x, "sequential")
    args = rec.selective_scan_arguments(x)
    assert args["A"].dtype == torch.float32 and (args["A"] < 0).all()
    args["A"], args["D"] = args["A"].double(), args["D"].double()
    torch.testing.assert_close(reference_selective_scan(**args).transpose(1, 2), ours)
    # the dispatch: a stand-in kernel with mamba-ssm's semantics, reached by method="mamba-ssm"
    monkeypatch.setattr(inertial, "selective_scan_kernel",
                        lambda: lambda **kw: reference_selective_scan(**{**kw, "A": kw["A"].double(), "D": kw["D"].double()}))
    torch.testing.assert_close(rec(x, "mamba-ssm"), ours)


    def cuda_only(**kwargs):
        raise AssertionError("method='auto' called the kernel on a CPU tensor")

    monkeypatch.setattr(inertial, "selective_scan_kernel", lambda: cuda_only)
    torch.testing.assert_close(rec(x), ours)
    monkeypatch.setattr(inertial, "selective_scan_kernel", lambda: None)
    with pytest.raises(RuntimeError, match="pip install mamba-ssm"):
        rec(x, "mamba-ssm")
    with pytest.raises(ValueError, match="'cuda-graph'"):
        rec(x, "cuda-graph")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the mamba-ssm kernel is CUDA-only")
def test_mamba_ssm_kernel_matches_the_scan_on_cuda():
    pytest.importorskip("mamba_ssm")
    from tgnlib.tgn.inertial import SelectiveRecurrence

    torch.manual_seed(0)
    rec = SelectiveRecurrence(64, 8).cuda()
    x = torch.randn(2, 300, 64, device="cuda")
    torch.testing.assert_close(rec(x, "mamba-ssm"), rec(x, "parallel"), rtol=1e-4, atol=1e-4)


def test_mamba_stream_is_the_same_with_either_scan():
    from tgnlib.tgn.inertial import SelectiveRecurrence

    torch.manual_seed(0)
    rec = SelectiveRecurrence(16, 4).double()
    x = torch.randn(2, 40, 16, dtype=torch.float64)
    torch.testing.assert_close(rec(x, "parallel"), rec(x, "sequential"))


@pytest.mark.parametrize("kw, match", [
    (dict(n_heads=5), "n_heads=5 must divide"),
    (dict(mode="hybrid"), "TGNConfig.mode='hybrid'"),
    (dict(inertial="lstm"), "TGNConfig.inertial='lstm'"),
    (dict(gate_threshold=1.0), "gate_threshold"),
    (dict(lam=-1.0), "TGNConfig.lam"),
    (dict(d_model=0), "TGNConfig.d_model"),
    (dict(dropout=1.0), "TGNConfig.dropout"),
])
def test_bad_config_names_the_field(kw, match):
    with pytest.raises(ValueError, match=match):
        TGNConfig(**kw)


def test_too_long_input_is_named():
    with pytest.raises(ValueError, match="context=24"):
        model()(torch.zeros(1, 25, dtype=torch.long))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the cuDNN attention kernel is CUDA-only")
def test_gated_attention_gradients_stay_finite_where_cudnn_returns_nan():
    # The case of pytorch/pytorch#196678: an explicit mask, a key length of 64 mod 128 and every logit near -120,
    # so each row's logsumexp is below ln(FLT_MAX); cuDNN's backward gives NaN query gradients there.
    t, dh = 704, 64
    g = torch.Generator(device="cuda").manual_seed(0)
    q = torch.randn(1, 1, t, dh, device="cuda", generator=g, dtype=torch.bfloat16) * 0.1
    k = torch.randn(1, 1, t, dh, device="cuda", generator=g, dtype=torch.bfloat16) * 0.1
    v = torch.randn(1, 1, t, dh, device="cuda", generator=g, dtype=torch.bfloat16)
    q[..., 0], k[..., 0] = 1.0, -120 * dh**0.5
    q.requires_grad_()
    positions = torch.arange(t, device="cuda")[None]
    out = attend_rows(q, k, v, positions, chunks=1)
    out.backward(torch.randn_like(out))
    assert torch.isfinite(out).all() and torch.isfinite(q.grad).all()
    # and the result is dense causal attention, as on every other path
    ref = F.scaled_dot_product_attention(q.detach().float(), k.float(), v.float(), is_causal=True)
    assert torch.allclose(out.detach().float(), ref, atol=2e-2)
