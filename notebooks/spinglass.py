# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2.2 Spin glass: geometric tunnelling?
#
# **Overview.** Section 2.2 of the paper compares three dynamics on the 3D Edwards-Anderson spin glass
# (Gaussian couplings, periodic boundaries, $L = 4 \dots 12$) and reports (its figure 1):
#
# | ID | claim (paraphrase) |
# |---|---|
# | S1 | Langevin dynamics fails fast as $L$ grows, stuck in high-energy metastable states |
# | S2 | parallel tempering does better, but its best energy worsens with $L$ (Arrhenius barriers) |
# | S3 | "attention dynamics" is scale invariant: near-ground-state energy for every $L$ from 4 to 12 |
# | S4 | at $N = 1728$ ($L = 12$) attention dynamics breaks through the thermal baselines' stagnation |
# | A1 | (abstract) attention turns the exponential (Arrhenius) relaxation time into a polynomial one |
#
# **What to know first.** The Edwards-Anderson energy $H(s) = -\sum_{\langle ij\rangle} J_{ij} s_i s_j$ on
# an $L^3$ periodic lattice with $J_{ij}\sim\mathcal N(0,1)$; its ground state is NP-hard to find in 3D. The
# classic heuristics are simulated annealing (SA) and parallel tempering (PT, replica exchange over a
# temperature ladder). **Every method gets the same budget**: the total number of spin-update attempts per
# instance, counted in sweeps of $N = L^3$ attempts, summed over all replicas (a Langevin step updates all
# $N$ soft spins: one sweep). Wall time is reported beside it, and the attention terms' extra FLOPs too.
#
# **Our readings.** The paper gives no equations for Langevin or attention dynamics. We use overdamped
# Langevin on soft spins in a double well $a(x^2-1)^2$, temperature ramped linearly from 1 to 0 (and its
# $T=0$ limit, gradient descent), and two readings of attention dynamics, both the same Langevin plus one
# non-local term: **(a)** the force smoothed by a softmax heat kernel over lattice sites (width 1
# spacing, mixed 50/50): its weights do not depend on the spins, so this reading is a fixed linear filter,
# a Gaussian blur of the force, computed by FFT in $O(N \log N)$ and charged as such; **(b)** each replica attends to the population (softmax over energies and
# overlaps) and is pulled toward the attended configuration, in the spirit of consensus-based
# optimisation. These are ours; the library's docstrings give the equations (`tgnlib.spinglass`).

# %% tags=["remove-cell"]
# Colab set-up: install tgnlib with the book's pinned versions when it is not importable.
# Elsewhere (a clone with `make book`, or papermill) this cell does nothing.
import importlib.util

if importlib.util.find_spec("tgnlib") is None:
    REPO = "tgn-book/tgn-book"
    # !pip install -q -c https://raw.githubusercontent.com/{REPO}/main/constraints.txt "tgnlib[spinglass] @ git+https://github.com/{REPO}"

# %% tags=["parameters"]
scale = "ci"  # "ci": L in 4, 6, 8 on 2 CPU cores, minutes; "full": L from 4 to 12, 16 instances (use a GPU)
seed = 0  # seeds the instances and every method
device = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"
output_dir = "tgn-output"  # figures/, results/ and cache/ (finished runs, so a killed run resumes)
# Knobs; None takes the scale's value. Types, ranges, units and each scale's values: tgnlib.knobs.spinglass.
sizes = None  # linear sizes L (even)
instances = None  # disorder instances per L
budget = None  # sweeps per instance, all replicas together, for every compared method
replicas = None  # population of SA restarts, Langevin and attention replicas (PT uses its own ladder)
reference_sweeps = None  # reference PT: ladder sweeps per chain, per L (dict)
target_residual = None  # A1: residual energy per spin that counts as "reached"

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display
from tqdm.auto import tqdm

from tgnlib.chapter import open_chapter
from tgnlib.ledger import chapter_summary
from tgnlib.scaling import compare_growth
from tgnlib.spinglass import make_couplings
from tgnlib.spinglass.experiment import METHODS, run_method, run_reference
from tgnlib.spinglass.reference import E_INF_GAUSSIAN_3D, THETA_3D, finite_size_energy, fit_finite_size_amplitude
from tgnlib.spinglass.tempering import default_ladder_size
from tgnlib.verdicts import rule_text
from tgnlib.verdicts import spinglass as rules

ch, P = open_chapter("spinglass", globals())
cache = ch.output_dir / "cache" / "spinglass"
plt.rcParams.update({"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3})
print(ch)
print(P)

# %% [markdown]
# ## Instances, runs and reference energies
#
# For each $L$ we draw the instances from the seed, run every method on all of them at the same budget
# (finished runs are cached, and parallel tempering writes checkpoints, so a killed `full` run resumes where
# it stopped), then run two long independent PT chains
# per instance. The reference $e_\mathrm{ref}$ of an instance is the lowest energy any run reached; it
# counts as a *likely ground state* only when both long PT chains found it.

# %%
runs, refs, couplings = {}, {}, {}
for L in P.sizes:
    J = make_couplings(L, P.instances, seed=ch.seed)
    couplings[L] = J
    for name in tqdm(METHODS, desc=f"L = {L}", leave=False):
        pop = default_ladder_size(L) if name == "parallel tempering" else P.replicas
        runs[(name, L)] = run_method(name, J, P.budget, pop, seed=ch.seed, device=ch.device, cache_dir=cache)
    refs[L] = run_reference(J, P.reference_sweeps[L] * default_ladder_size(L), device=ch.device, cache_dir=cache)
e_ref = {L: np.minimum(refs[L]["energy"], np.min([runs[(m, L)].final for m in METHODS], axis=0)) for L in P.sizes}
residual = {(m, L): runs[(m, L)].final - e_ref[L] for m in METHODS for L in P.sizes}
for L in P.sizes:
    print(f"L = {L:2d}: e_ref per spin {np.round(e_ref[L], 4)}; likely ground states (two PT chains agree): "
          f"{refs[L]['confirmed'].sum()}/{P.instances}; PT swap rate of the coldest pair "
          f"{runs[('parallel tempering', L)].info['swap_rates'][-1]:.2f}")

# %%
names = list(METHODS)
style = {m: dict(color=f"C{i}", marker="os^vDPX"[i]) for i, m in enumerate(names)}
med = {key: float(np.median(r)) for key, r in residual.items()}
print("median residual energy per spin (e - e_ref):")
for m in names:
    print(f"  {m:22s} " + "  ".join(f"L={L}: {med[(m, L)]:.4f}" for L in P.sizes))

# %% [markdown]
# (claim-s1)=
# (claim-s2)=
# (claim-s3)=
# ## S1-S3: residual energy against system size
#
# The paper's figure 1 (left): the energy each method reaches, relative to the ground state, as $L$ grows.
# We plot the residual $e - e_\mathrm{ref}$ per spin (median over instances, bars from the lowest to the
# highest instance), and beside it the reference energies against the literature's thermodynamic limit.

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.6))
for i, m in enumerate(names):
    mid = np.array([med[(m, L)] for L in P.sizes])
    lo = mid - np.array([residual[(m, L)].min() for L in P.sizes])
    hi = np.array([residual[(m, L)].max() for L in P.sizes]) - mid
    x = np.array(P.sizes) + 0.12 * (i - len(names) / 2)
    ax1.errorbar(x, np.maximum(mid, 1e-5), yerr=[np.minimum(lo, np.maximum(mid, 1e-5) - 1e-5), hi], capsize=3,
                 label=runs[(m, P.sizes[0])].method, **style[m])
ax1.set(yscale="log", xlabel="linear size L", ylabel=r"residual energy per spin $e - e_{ref}$",
        title=f"Same budget: {P.budget:,} sweeps per instance", xticks=P.sizes)
ax1.legend(fontsize=7)
a_fit = fit_finite_size_amplitude(P.sizes, [np.mean(e_ref[L]) for L in P.sizes])
grid = np.linspace(min(P.sizes), max(P.sizes) + 4, 50)
for L in P.sizes:
    ax2.scatter(np.full(P.instances, L), e_ref[L], c=np.where(refs[L]["confirmed"], "C2", "C3"), s=18)
ax2.plot(grid, finite_size_energy(grid, a=a_fit), "k--",
         label=rf"$e_\infty + a L^{{\theta-3}}$, $e_\infty={E_INF_GAUSSIAN_3D}$, $\theta={THETA_3D}$, fitted $a={a_fit:.2f}$")
ax2.axhline(E_INF_GAUSSIAN_3D, color="k", lw=0.8)
ax2.set(xlabel="linear size L", ylabel=r"reference energy per spin $e_{ref}$",
        title="References (green: two PT chains agree; red: not confirmed)")
ax2.legend(fontsize=7)
fig_main = ch.figure(
    fig, "s1_s3_residual_vs_L", "Figure S1",
    "Left: residual energy per spin reached by each method at the same budget, median over instances "
    "(bars: lowest to highest instance; residuals below 1e-5 drawn at 1e-5). Right: per-instance reference energies "
    "with the literature's thermodynamic limit (about -1.70, approximate) and finite-size form.",
    f"3D EA spin glass, Gaussian couplings, periodic, L in {P.sizes}, {P.instances} instances per L "
    f"(seed {ch.seed}), generated by tgnlib")

# %% [markdown]
# Residuals within $10^{-5}$ per spin of each other are a tie (both methods at the same state, up to float
# noise), and a tie is never a win.

# %%
L_lo, L_hi = P.sizes[0], P.sizes[-1]
data = f"3D EA, Gaussian J, L in {P.sizes}, {P.instances} instances per L, {P.budget:,} sweeps per instance"
curve = {m: [med[(m, L)] for L in P.sizes] for m in names}
for rule in (rules.s1, rules.s2, rules.s3):
    display(Markdown(rule_text(rule)))
s1_verdict = rules.s1(P.sizes, curve["langevin"], curve["parallel tempering"], P.instances)
ch.record("S1", verdict=s1_verdict, figure=fig_main, data=data,
          summary="Langevin median residual {lang_lo:.4f} at L={L_lo} -> {lang_hi:.4f} at L={L_hi} per spin; PT at L={L_hi}: "
                  "{pt_hi:.4f}; gradient descent {gd_hi:.4f}",
          measured=dict(lang_lo=med[("langevin", L_lo)], lang_hi=med[("langevin", L_hi)], pt_hi=med[("parallel tempering", L_hi)],
                        gd_hi=med[("gradient descent", L_hi)], L_lo=L_lo, L_hi=L_hi))
s2_verdict = rules.s2(P.sizes, curve["parallel tempering"], curve["langevin"], P.instances)
ch.record("S2", verdict=s2_verdict, figure=fig_main, data=data,
          summary="PT median residual {pt_lo:.4f} at L={L_lo} -> {pt_hi:.4f} at L={L_hi}; Langevin {lang_hi:.4f} at L={L_hi}; "
                  "coldest swap rate at L={L_hi}: {swap:.2f}",
          measured=dict(pt_lo=med[("parallel tempering", L_lo)], pt_hi=med[("parallel tempering", L_hi)], L_lo=L_lo, L_hi=L_hi,
                        lang_hi=med[("langevin", L_hi)], swap=runs[("parallel tempering", L_hi)].info["swap_rates"][-1]))
best_att, other_att = sorted(("attention (a)", "attention (b)"), key=lambda m: med[(m, L_hi)])
s3_verdict = rules.s3(P.sizes, curve[best_att], curve["parallel tempering"], P.instances)
ch.record("S3", verdict=s3_verdict, figure=fig_main, data=data,
          summary="better attention reading ({which}): median residual {att_lo:.4f} at L={L_lo} -> {att_hi:.4f} at L={L_hi} "
                  "(other reading {other_hi:.4f}); PT {pt_hi:.4f}, SA {sa_hi:.4f} at L={L_hi}",
          measured=dict(which=best_att, att_lo=med[(best_att, L_lo)], att_hi=med[(best_att, L_hi)], L_lo=L_lo, L_hi=L_hi,
                        other_hi=med[(other_att, L_hi)], pt_hi=med[("parallel tempering", L_hi)], sa_hi=med[("simulated annealing", L_hi)]),
          notes="Both attention readings are ours; the paper gives no equations.")
print("S1:", s1_verdict, "| S2:", s2_verdict, "| S3:", s3_verdict)

# %% [markdown]
# (claim-s4)=
# ## S4: convergence at the largest size
#
# The paper's figure 1 (right) is at $N = 1728$ ($L = 12$), which only the `full` scale runs; at `ci` the
# largest size is shown. Best energy found so far against the budget spent and against wall time, median
# over instances; the C++ reference (`dwave-samplers`) reports only its final state.

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), sharey=True)
for m in names:
    tr = runs[(m, L_hi)]
    gap = np.median(tr.best_energy - e_ref[L_hi][:, None], axis=0)
    for ax, x in zip(axes, (tr.sweeps, tr.wall_time)):
        ax.plot(x, np.maximum(gap, 1e-5), "-" if len(x) > 1 else "", label=tr.method, **style[m], markevery=max(len(x) // 8, 1))
axes[0].set(xscale="log", yscale="log", xlabel="budget spent (sweeps per instance, all replicas)",
            ylabel=r"median best $e - e_{ref}$ per spin", title=f"L = {L_hi} (N = {L_hi**3})")
axes[1].set(xscale="log", xlabel=f"wall time (s, {P.instances} instances in one batch, {ch.device.type})", title="against wall time")
axes[0].legend(fontsize=7)
fig_conv = ch.figure(
    fig, "s4_convergence_largest_L", "Figure S4",
    f"Convergence at L = {L_hi}: median over instances of the best residual energy so far, against "
    "budget and against wall time (residuals below 1e-5 drawn at 1e-5).", data)

# %%
display(Markdown(rule_text(rules.s4)))
thermal = {m: med[(m, L_hi)] for m in ("simulated annealing", "parallel tempering", "langevin")}
att_hi = med[(best_att, L_hi)]
s4_verdict = rules.s4(L_hi, att_hi, thermal, P.instances)
ch.record("S4", verdict=s4_verdict, figure=fig_conv, data=data,
          summary="at L={L_hi} (N={N}): best attention reading {att:.4f} vs SA {sa:.4f}, PT {pt:.4f}, Langevin {lang:.4f} median "
                  "residual per spin; attention cost {flops:.2g} extra FLOPs per instance",
          measured=dict(L_hi=L_hi, N=L_hi**3, att=att_hi, sa=thermal["simulated annealing"], pt=thermal["parallel tempering"],
                        lang=thermal["langevin"], flops=runs[(best_att, L_hi)].extra_flops),
          notes="" if L_hi == 12 else f"The paper's claim is at L = 12; this run's largest L is {L_hi}.")
print("S4:", s4_verdict)

# %% [markdown]
# (claim-a1)=
# ## A1: exponential or polynomial relaxation time?
#
# Budget each method needs before its best energy is within `target_residual` per spin of $e_\mathrm{ref}$
# (median over instances; an instance not reaching it within the budget counts as not reached), against $L$.
# `dwave-samplers` reports only its final state, so it has no time-to-target and is left out here.
# For each method with three or more sizes reached we fit $\ln t = c + bL$ (exponential, Arrhenius) and
# $\ln t = c + b\ln L$ (power law) and compare the residuals. With a narrow range of $L$ the two forms are
# hard to tell apart; the verdict says when that is the case.

# %%
timed = [m for m in names if m != "dwave-samplers"]
t_reach = {(m, L): np.median(runs[(m, L)].sweeps_to_reach(e_ref[L] + P.target_residual)) for m in timed for L in P.sizes}
fits = {}
for m in timed:
    reached = [L for L in P.sizes if np.isfinite(t_reach[(m, L)])]
    if len(reached) >= 3:
        fits[m] = compare_growth(reached, [t_reach[(m, L)] for L in reached])
    print(f"{m:22s} sweeps to reach: " + ", ".join(f"L={L}: {t_reach[(m, L)]:.3g}" for L in P.sizes)
          + (f" | fit residual exp {fits[m]['rss_exp']:.3f}, power {fits[m]['rss_power']:.3f}" if m in fits else " | too few sizes reached"))

# %%
fig, ax = plt.subplots(figsize=(7, 4.5))
for m in timed:
    ys = [t_reach[(m, L)] for L in P.sizes]
    ax.plot(P.sizes, [y if np.isfinite(y) else np.nan for y in ys], label=runs[(m, L_lo)].method, **style[m])
ax.axhline(P.budget, color="k", ls=":", label="budget (not reached above it)")
ax.set(yscale="log", xlabel="linear size L", ylabel=f"sweeps to reach e_ref + {P.target_residual} per spin", xticks=P.sizes,
       title="Time to a fixed residual energy")
ax.legend(fontsize=7)
fig_a1 = ch.figure(
    fig, "a1_time_to_target_vs_L", "Figure A1",
    "Median budget (sweeps per instance) each method needed to come within the target residual of the "
    "reference energy; missing points were not reached within the budget.", data)

# %%
display(Markdown(rule_text(rules.a1)))
decisive = {m: f for m, f in fits.items() if max(f["rss_exp"], f["rss_power"]) > 2 * min(f["rss_exp"], f["rss_power"])}
a1_verdict = rules.a1(fits, ("attention (a)", "attention (b)"), ("parallel tempering", "simulated annealing"))
ch.record("A1", verdict=a1_verdict, figure=fig_a1, data=data,
          summary="sizes reached by attention (a)/(b): {n_a}/{n_b} of {n_sizes}; PT sweeps to target {pt_lo:.3g} at L={L_lo} -> "
                  "{pt_hi:.3g} at L={L_hi}; fits decisive (residuals differ >2x) for {n_decisive} of {n_fitted} methods",
          measured=dict(n_a=sum(np.isfinite(t_reach[("attention (a)", L)]) for L in P.sizes),
                        n_b=sum(np.isfinite(t_reach[("attention (b)", L)]) for L in P.sizes), n_sizes=len(P.sizes),
                        pt_lo=t_reach[("parallel tempering", L_lo)], pt_hi=t_reach[("parallel tempering", L_hi)],
                        L_lo=L_lo, L_hi=L_hi, n_decisive=len(decisive), n_fitted=len(fits)),
          notes=f"Target residual {P.target_residual} per spin; 'inf' means not reached within {P.budget:,} sweeps.")
print("A1:", a1_verdict)

# %% [markdown]
# ## Summary
#
# The verdicts below are read back from what this notebook recorded for the ledger:

# %%
display(Markdown(chapter_summary(ch.output_dir, "spinglass")))

# %%
ranking = sorted(names, key=lambda m: med[(m, L_hi)])
display(Markdown(f"**Ranking at L = {L_hi}**, by median residual energy per spin at {P.budget:,} sweeps per instance: "
                 + "; ".join(f"{i + 1}. {runs[(m, L_hi)].method} ({med[(m, L_hi)]:.4f})" for i, m in enumerate(ranking)) + "."))

# %% [markdown]
# Both readings of attention dynamics are Langevin dynamics plus one non-local term, so their gain or
# loss against the Langevin row is what the term buys at the same budget; their extra FLOPs are in the
# ledger. At the `ci` scale ($L \le 8$, 4 instances) the test is weak for the scaling claims (S2, S3,
# A1); the `full` scale reruns the same code for $L$ up to 12 with 16 instances and a 16x larger budget.
#
# ## References
#
# - Edwards, S. F., Anderson, P. W. (1975). Theory of spin glasses. *J. Phys. F* 5, 965.
# - Hukushima, K., Nemoto, K. (1996). Exchange Monte Carlo method and application to spin glass simulations. *J. Phys. Soc. Jpn.* 65, 1604.
# - Kirkpatrick, S., Gelatt, C. D., Vecchi, M. P. (1983). Optimization by simulated annealing. *Science* 220, 671.
# - Pal, K. F. (1996). The ground state of the cubic spin glass with short-range interactions of Gaussian distribution. *Physica A* 233, 60.
# - Romá, F., Risau-Gusman, S., Ramirez-Pastor, A. J., Nieto, F., Vogel, E. E. (2009). The ground state energy of the Edwards-Anderson spin glass model with a parallel tempering Monte Carlo algorithm. *Physica A* 388, 2821.
# - Hartmann, A. K. (1999). Scaling of stiffness energy for three-dimensional ±J Ising spin glasses. *Phys. Rev. E* 59, 84; Boettcher, S. (2004). Stiffness exponents for lattice spin glasses in dimensions d = 3, ..., 6. *Eur. Phys. J. B* 38, 83.
# - Pinnau, R., Totzeck, C., Tse, O., Martin, S. (2017). A consensus-based model for global optimization. *Math. Models Methods Appl. Sci.* 27, 183.
# - D-Wave Systems, `dwave-samplers` (simulated annealing sampler), https://github.com/dwavesystems/dwave-samplers.
