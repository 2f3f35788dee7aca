"""The GRU recurrence of :func:`tgnlib.tgn.inertial.gru` as a compiled CPU loop (C++, built on first use).

Why: at the chapter's sizes (batch 8, width 64) one step of the recurrence is a (8, 64) x (64, 192)
product and a few hundred gate values. The Python loop of :class:`tgnlib.tgn.inertial._GRUScan`
dispatches about ten ATen operations per step, forward and backward, and at these sizes the dispatch,
not the arithmetic, is most of a TGN's training step. This module runs the same equations as one C++
loop per direction: per step one ``addmm`` for the product that has to wait for ``h_{t-1}``, ATen's
vectorised ``sigmoid_``/``tanh_`` on two small buffers, and plain loops for the rest, so the numbers
are the Python loop's up to float rounding (tested against it and against ``torch.nn.GRU``).

The extension is compiled with :func:`torch.utils.cpp_extension.load_inline` the first time it is
asked for (about a minute of one core; cached under ``TORCH_EXTENSIONS_DIR``, by default
``~/.cache/torch_extensions``) and needs a C++ compiler and ninja. Where either is missing, or the
build fails, :func:`load` returns None after one warning and callers keep the Python loop.

Forward (``torch.nn.GRU``'s equations, gate order r, z, n; ``gi = x W_ih^T + b_ih`` for all steps)::

    gh_t = h_{t-1} W_hh^T + b_hh
    r_t  = sigmoid(gi_r + gh_r),   z_t = sigmoid(gi_z + gh_z)
    n_t  = tanh(gi_n + r_t * gh_n)
    h_t  = (1 - z_t) n_t + z_t h_{t-1}

Backward, in reverse time, with ``dh_t`` the whole gradient reaching ``h_t``::

    c_t   = [dn_pre gh_n r (1 - r),  (h_{t-1} - n) z (1 - z),  dn_pre r],   dn_pre = (1 - z)(1 - n^2)
    dgh_t = c_t * dh_t                                   (B, 3D): the gradient of gh_t
    dh_{t-1} = dL/dh_{t-1} + z_t dh_t + dgh_t W_hh
    dgi_t = [dgh_t[r], dgh_t[z], dh_t dn_pre],   dW_hh = sum_t dgh_t^T h_{t-1},   db_hh = sum_t dgh_t
"""

from __future__ import annotations

import functools
import warnings

import torch
from torch.autograd.function import once_differentiable

SOURCE = r"""
#include <torch/extension.h>
#include <vector>

// Forward: gi (B, T, 3D) contiguous, w_hh (3D, D), b_hh (3D). Returns h, r, z, n, gh_n, each (B, T, D).
std::vector<torch::Tensor> gru_forward(torch::Tensor gi, torch::Tensor w_hh, torch::Tensor b_hh) {
  const int64_t B = gi.size(0), T = gi.size(1), D = gi.size(2) / 3;
  auto opts = gi.options();
  auto hs = torch::empty({B, T, D}, opts), r = torch::empty({B, T, D}, opts), z = torch::empty({B, T, D}, opts);
  auto n = torch::empty({B, T, D}, opts), gh_n = torch::empty({B, T, D}, opts);
  auto h = torch::zeros({B, D}, opts), gh = torch::empty({B, 3 * D}, opts);
  auto rz = torch::empty({B, 2 * D}, opts), n_pre = torch::empty({B, D}, opts);
  auto w_t = w_hh.t();
  AT_DISPATCH_FLOATING_TYPES(gi.scalar_type(), "gru_forward", [&] {
    const scalar_t* g = gi.data_ptr<scalar_t>();
    scalar_t *p_gh = gh.data_ptr<scalar_t>(), *p_rz = rz.data_ptr<scalar_t>(), *p_np = n_pre.data_ptr<scalar_t>();
    scalar_t *p_h = h.data_ptr<scalar_t>(), *p_hs = hs.data_ptr<scalar_t>(), *p_r = r.data_ptr<scalar_t>();
    scalar_t *p_z = z.data_ptr<scalar_t>(), *p_n = n.data_ptr<scalar_t>(), *p_ghn = gh_n.data_ptr<scalar_t>();
    for (int64_t t = 0; t < T; ++t) {
      at::addmm_out(gh, b_hh, h, w_t);  // (B, 3D): the only product that has to wait for h_{t-1}
      for (int64_t b = 0; b < B; ++b) {
        const scalar_t *g_t = g + (b * T + t) * 3 * D, *gh_b = p_gh + b * 3 * D;
        for (int64_t j = 0; j < 2 * D; ++j) p_rz[b * 2 * D + j] = g_t[j] + gh_b[j];
      }
      rz.sigmoid_();
      for (int64_t b = 0; b < B; ++b) {
        const scalar_t *g_t = g + (b * T + t) * 3 * D, *gh_b = p_gh + b * 3 * D;
        for (int64_t j = 0; j < D; ++j) p_np[b * D + j] = g_t[2 * D + j] + p_rz[b * 2 * D + j] * gh_b[2 * D + j];
      }
      n_pre.tanh_();
      for (int64_t b = 0; b < B; ++b) {
        const int64_t o = (b * T + t) * D;
        for (int64_t j = 0; j < D; ++j) {
          const scalar_t r_j = p_rz[b * 2 * D + j], z_j = p_rz[b * 2 * D + D + j], n_j = p_np[b * D + j];
          const scalar_t h_j = n_j + z_j * (p_h[b * D + j] - n_j);  // (1 - z) n + z h_{t-1}
          p_h[b * D + j] = h_j;
          p_hs[o + j] = h_j; p_r[o + j] = r_j; p_z[o + j] = z_j; p_n[o + j] = n_j;
          p_ghn[o + j] = p_gh[b * 3 * D + 2 * D + j];
        }
      }
    }
  });
  return {hs, r, z, n, gh_n};
}

// Backward: grad_h (B, T, D) and the forward's outputs. Returns dgi (B, T, 3D), dw_hh (3D, D), db_hh (3D).
std::vector<torch::Tensor> gru_backward(torch::Tensor grad_h, torch::Tensor w_hh, torch::Tensor hs, torch::Tensor r,
                                        torch::Tensor z, torch::Tensor n, torch::Tensor gh_n) {
  const int64_t B = hs.size(0), T = hs.size(1), D = hs.size(2);
  auto opts = hs.options();
  auto dgi = torch::empty({B, T, 3 * D}, opts), dgh_all = torch::empty({B, T, 3 * D}, opts);
  auto dh = torch::empty({B, D}, opts).copy_(grad_h.select(1, T - 1));
  auto dgh = torch::empty({B, 3 * D}, opts), base = torch::empty({B, D}, opts);
  AT_DISPATCH_FLOATING_TYPES(hs.scalar_type(), "gru_backward", [&] {
    const scalar_t *p_g = grad_h.data_ptr<scalar_t>(), *p_hs = hs.data_ptr<scalar_t>(), *p_r = r.data_ptr<scalar_t>();
    const scalar_t *p_z = z.data_ptr<scalar_t>(), *p_n = n.data_ptr<scalar_t>(), *p_ghn = gh_n.data_ptr<scalar_t>();
    scalar_t *p_dgi = dgi.data_ptr<scalar_t>(), *p_all = dgh_all.data_ptr<scalar_t>(), *p_dgh = dgh.data_ptr<scalar_t>();
    scalar_t *p_base = base.data_ptr<scalar_t>();
    for (int64_t t = T - 1; t >= 0; --t) {
      const scalar_t* p_dh = dh.data_ptr<scalar_t>();  // (B, D), never an alias of grad_h
      for (int64_t b = 0; b < B; ++b) {
        const int64_t o = (b * T + t) * D;
        for (int64_t j = 0; j < D; ++j) {
          const scalar_t r_j = p_r[o + j], z_j = p_z[o + j], n_j = p_n[o + j], d = p_dh[b * D + j];
          const scalar_t h_prev = t > 0 ? p_hs[o - D + j] : scalar_t(0);
          const scalar_t dn_pre = (1 - z_j) * (1 - n_j * n_j);
          scalar_t* row = p_dgh + b * 3 * D;
          row[j] = dn_pre * p_ghn[o + j] * r_j * (1 - r_j) * d;
          row[D + j] = (h_prev - n_j) * z_j * (1 - z_j) * d;
          row[2 * D + j] = dn_pre * r_j * d;
          scalar_t *gi_row = p_dgi + (b * T + t) * 3 * D, *all_row = p_all + (b * T + t) * 3 * D;
          gi_row[j] = row[j]; gi_row[D + j] = row[D + j]; gi_row[2 * D + j] = d * dn_pre;
          all_row[j] = row[j]; all_row[D + j] = row[D + j]; all_row[2 * D + j] = row[2 * D + j];
          if (t > 0) p_base[b * D + j] = p_g[o - D + j] + z_j * d;
        }
      }
      if (t > 0) at::addmm_out(dh, base, dgh, w_hh);  // dh_{t-1} = dL/dh_{t-1} + z_t dh_t + dgh_t W_hh
    }
  });
  auto h_prev = torch::cat({torch::zeros({B, 1, D}, opts), hs.slice(1, 0, T - 1)}, 1).reshape({B * T, D});
  auto flat = dgh_all.reshape({B * T, 3 * D});
  return {dgi, flat.t().mm(h_prev), flat.sum(0)};
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("gru_forward", &gru_forward, "GRU recurrence, forward");
  m.def("gru_backward", &gru_backward, "GRU recurrence, backward in reverse time");
}
"""


@functools.cache
def load():
    """The compiled extension, built on the first call; None (after one warning) where it cannot be built.

    Returns
    -------
    module or None
        With ``gru_forward(gi, w_hh, b_hh)`` and ``gru_backward(grad_h, w_hh, h, r, z, n, gh_n)``.
    """
    from torch.utils import cpp_extension

    try:
        return cpp_extension.load_inline("tgnlib_gru_loop", cpp_sources=SOURCE, extra_cflags=["-O3"])
    except Exception as err:  # no compiler, no ninja, a failed build: the Python loop stays
        warnings.warn(f"the compiled GRU loop could not be built ({type(err).__name__}: {err}); using the Python loop",
                      RuntimeWarning, stacklevel=2)
        return None


class GRUKernelScan(torch.autograd.Function):
    """The GRU recurrence (``gi``, ``w_hh``, ``b_hh`` -> all states ``h``, (B, T, D)) on the compiled loops.

    Same interface and numbers as :class:`tgnlib.tgn.inertial._GRUScan`; CPU tensors, float32 or float64.
    Call :func:`load` first: ``apply`` assumes it succeeded.
    """

    @staticmethod
    def forward(ctx, gi, w_hh, b_hh):
        hs, r, z, n, gh_n = load().gru_forward(gi.contiguous(), w_hh.contiguous(), b_hh.contiguous())
        ctx.save_for_backward(w_hh, hs, r, z, n, gh_n)
        return hs

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_h):
        w_hh, *saved = ctx.saved_tensors
        dgi, dw_hh, db_hh = load().gru_backward(grad_h.contiguous(), w_hh.contiguous(), *saved)
        return dgi, dw_hh, db_hh
