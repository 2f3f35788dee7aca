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
# **Overview.** Section 2.2 of the paper compares dynamics on the 3D Edwards-Anderson spin glass
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
# field measures heuristic solvers by **time to solution** (Rønnow et al. 2014; Aramon et al. 2019): a run
# of length $t$ reaches the ground state with probability $p_s$; repeating runs until one succeeds with
# probability 0.99 costs $\mathrm{TTS}_{99}(t) = t\,\ln 0.01/\ln(1-p_s)$, minimised over $t$. We estimate
# $p_s$ from many independent runs per instance and length; where no run succeeds, the data give only a
# **lower bound** (from the one-sided 95% upper bound on $p_s$), drawn as such, never as a number.
# Costs are counted in **sweeps** ($N$ spin-update attempts, summed over a run's replicas), in wall time
# and in FLOPs (the attention terms' $N\log N$ or $N^2$ included).
#
# **The compared solvers.** The field's strongest thermal heuristics at these sizes: simulated annealing
# (SA), parallel tempering (PT), PT with Houdayer cluster moves (at the colder half of the ladder), and
# population annealing (PA); overdamped Langevin on soft spins; and three readings of "attention
# dynamics", each Langevin plus one non-local term (the paper gives no equations; all three readings are
# ours): **(a)** the force smoothed by a Gaussian kernel over lattice sites (its weights do not depend on
# the spins: a fixed linear filter, computed by FFT); **(b)** each replica attends to a population and is
# pulled toward what it attends to (consensus-based); **(c)** content-based attention over sites, queries
# and keys from each site's spin, force and neighbourhood ($N^2$ per step). **Same tuning effort for
# all**: every solver's settings are chosen by the same random search (its defaults plus `tune_trials` draws: 8 at `laptop` and `full`, 4 at `ci`) on
# tuning instances that are never measured, then frozen.

# %% tags=["remove-cell"]
# Colab set-up: install tgnlib with the book's pinned versions when it is not importable.
# Elsewhere (a clone with `make book`, or papermill) this cell does nothing.
import importlib.util

if importlib.util.find_spec("tgnlib") is None:
    REPO = "tgn-book/tgn-book"
    # !pip install -q -c https://raw.githubusercontent.com/{REPO}/main/constraints.txt "tgnlib[spinglass] @ git+https://github.com/{REPO}"

# %% tags=["parameters"]
scale = "ci"  # "ci": L in 4, 6, 8 on 2 CPU cores, minutes; "laptop": L to 12, 16 instances; "full": a GPU
seed = 0  # seeds the instances and every run
device = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"
output_dir = "tgn-output"  # figures/, results/ and cache/ (finished runs, so a killed run resumes)
# Knobs; None takes the scale's value. Types, ranges, units and each scale's values: tgnlib.knobs.spinglass.
sizes = None  # linear sizes L (even)
instances = None  # disorder instances per L
runs = None  # independent runs per instance and schedule length
lengths = None  # schedule lengths t of one run (sweeps, all its replicas)
solvers = None  # compared solvers (keys of tgnlib.spinglass.solvers.SOLVERS)
dense_attention_max_L = None  # largest L for reading (c), N^2 per step
tune_size = None  # linear size of the tuning instances
tune_length = None  # schedule length at which settings are tuned
tune_trials = None  # random-search draws per solver besides its defaults
reference_sweeps = None  # references: sweeps per instance of PT and of PA, per L (dict)
executor = None  # where the batches run: "local", "processes:N", "dask-local:N", "dask:ADDRESS", "submitit:FOLDER"

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display
from tqdm.auto import tqdm

from tgnlib.chapter import open_chapter
from tgnlib.display import PAGE_WIDTH_IN, format_table, use_book_style
from tgnlib.ledger import chapter_summary
from tgnlib.runs import execute, make_executor
from tgnlib.spinglass import plan
from tgnlib.spinglass.experiment import measure_tts, median_tts, reference_ground_states, tts_growth
from tgnlib.spinglass.reference import E_INF_GAUSSIAN_3D, confirm_references, fit_finite_size
from tgnlib.spinglass.solvers import SOLVERS
from tgnlib.spinglass.tts import energy_tolerance
from tgnlib.verdicts import rule_text
from tgnlib.verdicts import spinglass as rules

ch, P = open_chapter("spinglass", globals())
measurement = plan.prepare(P, ch.seed, ch.output_dir, ch.device)  # every batch below, listed (tgnlib.spinglass.plan)
cache = measurement.cache
pool = make_executor(P.executor)  # None ("local"): each batch runs here when a cell asks for it
use_book_style()
THERMAL = [m for m in ("simulated annealing", "parallel tempering", "PT + Houdayer", "population annealing") if m in P.solvers]
ATTENTION = [m for m in ("attention (a)", "attention (b)", "attention (c)") if m in P.solvers]
style = {m: dict(color=f"C{i}", marker="os^vDPXh"[i]) for i, m in enumerate(SOLVERS)}
print(ch)
print(P)

# %% [markdown]
# ## Tuning every solver the same way
#
# Four tuning instances at $L$ = `tune_size` (another seed: never measured), a reference for each from
# long PT and PA runs, then for every solver its defaults and the same `tune_trials` random draws from its declared
# space, each run `runs` times per instance at `tune_length` sweeps. The score is the number of runs that
# reach the reference (ties: the lower mean residual). The winner is frozen for everything below.

# %%
if pool is not None:  # the references and every tuning batch, fanned out; the cells below read them from the cache
    execute(measurement.specs("search"), pool)
tune_refs = measurement.tuning_references()
settings, tuning_rows = {}, []
for name in tqdm(P.solvers, desc="tuning"):
    best, table = measurement.tune(name)
    settings[name] = best
    top = next(row for row in table if row["chosen"])
    tuning_rows.append({"solver": SOLVERS[name].name, "runs reaching the reference": f"{top['successes']} of {P.runs * 4}",
                        "defaults reached": f"{table[0]['successes']} of {P.runs * 4}",
                        "chosen settings": ", ".join(f"{k}={v:.3g}" for k, v in best.items()) or "defaults"})
display(format_table(pd.DataFrame(tuning_rows), caption=
    f"Random search: defaults + {P.tune_trials} draws per solver, {P.runs} runs x 4 instances at L = {P.tune_size}, "
    f"{P.tune_length:,} sweeps per run; tuning references confirmed by both algorithms: {tune_refs['confirmed'].sum()} of 4"))

# %% [markdown]
# ## Reference ground states, and time to solution
#
# For each $L$: the instances from the seed; reference energies from two independent algorithms (PT with
# two chains and PA, each at `reference_sweeps`); then every solver's runs at every schedule length. A
# reference counts as **confirmed** when two different algorithms reach it. The long reference runs and the
# compared solvers of the same name (PT, PA) are one algorithm each: their energies are pooled by the
# minimum (`tgnlib.verdicts.spinglass.energies_by_algorithm`), so PT, PT + Houdayer, PA, SA, Langevin and
# the attention readings can each confirm once. Otherwise it is an upper bound and the TTS against it carries that caveat. If any run goes below a
# reference, the reference is lowered and the successes are counted again (finished runs are cached).
# Reaching a reference means an energy within $10^{-6}$ per spin of it (at least $10^{-4}$ in total): the
# solvers sum couplings in float32, and one state's energy from two of them differs by rounding
# (`tgnlib.spinglass.tts.energy_tolerance`): up to $9 \times 10^{-5}$ apart at $L = 8$, so a fixed $10^{-4}$ would split
# such ties from $L = 8$ on.

# %%
if pool is not None:  # every solver at every size and length (a local run skips lengths once all runs succeed)
    execute(measurement.specs("main"), pool)
results, references = {}, {}
for L in P.sizes:
    J = measurement.instances(L)
    names = measurement.solvers_at(L)
    refs = reference_ground_states(J, P.reference_sweeps[L], device=ch.device, cache_dir=cache)
    ref = np.minimum(refs["parallel tempering"], refs["population annealing"])
    for attempt in range(2):  # a second pass only if some run went below the references
        out = {m: measure_tts(SOLVERS[m], J, ref, P.lengths, P.runs, SOLVERS[m].settings(L, **settings[m]), seed=ch.seed,
                              device=ch.device, cache_dir=cache) for m in tqdm(names, desc=f"L = {L}", leave=False)}
        pooled = rules.energies_by_algorithm(refs, {m: r["best"] for m, r in out.items()})  # one entry per algorithm
        found = confirm_references({k: v * L**3 for k, v in pooled.items()}, atol=energy_tolerance(L**3))
        if np.all(found["energy"] >= ref * L**3 - energy_tolerance(L**3)):
            break
        ref = found["energy"] / L**3
    results[L], references[L] = out, dict(found, energy=found["energy"] / L**3, algorithms=refs)
    print(f"L = {L:2d}: confirmed references {found['confirmed'].sum()} of {P.instances}; reference e per spin "
          f"{np.round(references[L]['energy'], 4)}")

# %% [markdown]
# Who found each reference. A reference confirmed on few instances means the algorithms disagree: each
# reaches the lowest known state on a different subset, so none of them finds ground states reliably at
# that budget, and the lowest known state is only an upper bound on the ground state. Residuals (S1-S4)
# are then lower bounds on the true ones, and a success counted against an unconfirmed reference may
# be a success at reaching a low excited state.

# %%
ref_rows = []
for L in P.sizes:
    r, n = references[L], L**3
    row = {"L": L, "sweeps per reference algorithm": P.reference_sweeps[L],
           "confirmed (of instances)": int(r["confirmed"].sum())}
    for name, e in r["algorithms"].items():
        row[f"{name}: median above lowest (per spin)"] = float(np.median(e - r["energy"]))
    row["instances where each algorithm reached the lowest"] = ", ".join(
        f"{SOLVERS[m].name.split(':')[0] if m in SOLVERS else m} {c}"
        for m, c in pd.Series([a for found_by in r["found_by"] for a in found_by]).value_counts().items())
    ref_rows.append(row)
display(format_table(pd.DataFrame(ref_rows), caption=
    f"References per L: two algorithms (PT with two chains, PA) at the sweeps shown, plus every compared solver's best run; "
    f"{P.instances} instances per L; 'reached' means within the float tolerance of the lowest energy found",
    formats={c: "{:.2e}" for c in ref_rows[0] if c.endswith("(per spin)")}))

# %%
fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 4.6))
for L in P.sizes:
    r = references[L]
    ax.scatter(np.full(P.instances, L) + np.linspace(-0.15, 0.15, P.instances), r["energy"], s=16,
               c=np.where(r["confirmed"], "C2", "C3"))
fit = fit_finite_size(P.sizes, [np.mean(references[L]["energy"]) for L in P.sizes]) if len(P.sizes) >= 4 else None
if fit:
    grid = np.linspace(min(P.sizes), max(P.sizes) + 4, 50)
    ax.plot(grid, fit["e_inf"] + fit["a"] * grid ** (fit["theta"] - 3), "k--",
            label=rf"fit $e_\infty + a L^{{\theta-3}}$: $e_\infty$ = {fit['e_inf']:.3f}, $\theta$ = {fit['theta']:.2f}")
ax.axhline(E_INF_GAUSSIAN_3D, color="k", lw=0.8, label=f"literature $e_\\infty$ = {E_INF_GAUSSIAN_3D} (approximate)")
ax.set(xlabel="linear size L", ylabel="reference energy per spin", xticks=P.sizes,
       title="References (green: confirmed by two algorithms; red: an upper bound)")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=1)
fig_ref = ch.figure(fig, "s0_references", "Figure S0",
                    "Reference ground-state energy per spin of every instance, with the finite-size fit of their means (four sizes or "
                    "more) and the literature's thermodynamic limit of the Gaussian 3D EA model.",
                    f"3D EA, Gaussian J, periodic, L in {P.sizes}, {P.instances} instances per L (seed {ch.seed}), generated by tgnlib")

# %% [markdown]
# (claim-s1)=
# (claim-s2)=
# (claim-s3)=
# ## S1-S3: the energy reached at the same budget, against size
#
# The paper's figure 1 (left) in our units: each solver's residual energy per spin above the reference at
# the longest schedule (`lengths[-1]` sweeps per run, the same for every solver; 0 where every run had
# already reached the reference at a shorter one): per instance the median over runs; here the median over
# instances with its 95% bootstrap interval.

# %%
residuals = {m: {L: results[L][m]["residual"] for L in P.sizes if m in results[L]} for m in P.solvers}
fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 5.2))
for i, m in enumerate(P.solvers):
    Ls = sorted(residuals[m])
    band = [median_tts(residuals[m][L], np.ones(P.instances, bool), seed=ch.seed) for L in Ls]
    mid, low, high = (np.maximum([b[k] for b in band], 1e-5) for k in ("median", "low", "high"))
    x = np.array(Ls) + 0.1 * (i - len(P.solvers) / 2)
    ax.errorbar(x, mid, yerr=[mid - low, high - mid], capsize=3, label=SOLVERS[m].name, **style[m])
ax.set(yscale="log", xlabel="linear size L", ylabel="residual energy per spin (median, 95% CI)", xticks=P.sizes,
       title=f"Same budget: {P.lengths[-1]:,} sweeps per run")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=3)
data = f"3D EA, Gaussian J, L in {P.sizes}, {P.instances} instances per L, {P.runs} runs per instance and length"
fig_main = ch.figure(fig, "s1_s3_residual_vs_L", "Figure S1",
                     "Residual energy per spin at the longest schedule, median over instances with its 95% bootstrap interval "
                     "(values below 1e-5 drawn at 1e-5).", data)

# %%
for rule in (rules.s1, rules.s2, rules.s3):
    display(Markdown(rule_text(rule)))
L_lo, L_hi = P.sizes[0], P.sizes[-1]
med = {m: {L: float(np.median(v)) for L, v in residuals[m].items()} for m in P.solvers}
med_hi = {m: med[m][L_hi] for m in P.solvers if L_hi in med[m]}
everywhere = [m for m in P.solvers if set(residuals[m]) == set(P.sizes)]
s1 = rules.s1(residuals, THERMAL)
s2 = rules.s2(residuals, THERMAL)
s3 = rules.s3({m: residuals[m] for m in everywhere}, [m for m in ATTENTION if m in everywhere], THERMAL,
              confirmed={L: references[L]["confirmed"] for L in P.sizes})
best_att = min([m for m in ATTENTION if m in everywhere], key=med_hi.get)
ch.record("S1", verdict=s1, figure=fig_main, data=data,
          summary="Langevin median residual {lang_lo:.4f} at L={L_lo} -> {lang_hi:.4f} at L={L_hi} per spin; best thermal at L={L_hi}: "
                  "{best_hi:.4f}",
          measured=dict(lang_lo=med["langevin"][L_lo], lang_hi=med["langevin"][L_hi], L_lo=L_lo, L_hi=L_hi,
                        best_hi=min(med[m][L_hi] for m in THERMAL)))
ch.record("S2", verdict=s2, figure=fig_main, data=data,
          summary="PT median residual {pt_lo:.4f} at L={L_lo} -> {pt_hi:.4f} at L={L_hi}; Langevin {lang_hi:.4f}; best thermal {best_hi:.4f} "
                  "at L={L_hi}",
          measured=dict(pt_lo=med["parallel tempering"][L_lo], pt_hi=med["parallel tempering"][L_hi], L_lo=L_lo, L_hi=L_hi,
                        lang_hi=med["langevin"][L_hi], best_hi=min(med[m][L_hi] for m in THERMAL)))
ch.record("S3", verdict=s3, figure=fig_main, data=data,
          summary="best attention reading at L={L_hi} ({which}): median residual {att_lo:.4f} at L={L_lo} -> {att_hi:.4f} at L={L_hi}; "
                  "best thermal {best_hi:.4f}",
          measured=dict(which=SOLVERS[best_att].name, att_lo=med[best_att][L_lo], att_hi=med[best_att][L_hi], L_lo=L_lo, L_hi=L_hi,
                        best_hi=min(med[m][L_hi] for m in THERMAL)),
          notes="All three attention readings are ours; the paper gives no equations." + (
              f" Reading (c) runs only up to L = {P.dense_attention_max_L} at this scale (N^2 per step)."
              if "attention (c)" in P.solvers and P.dense_attention_max_L < L_hi else ""))
print("S1:", s1, "\nS2:", s2, "\nS3:", s3)

# %% [markdown]
# (claim-s4)=
# ## S4: at the largest size
#
# The paper's figure 1 (right) is at $N = 1728$ ($L = 12$), which `laptop` and `full` run. Each instance's
# residual (median over runs) for every solver at the largest $L$; the rule compares the best attention
# reading with the best baseline on the same instances.

# %%
at_hi = [m for m in P.solvers if L_hi in residuals[m]]
fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, 4.2))
for i, m in enumerate(at_hi):
    ax.scatter(np.full(P.instances, i) + np.linspace(-0.2, 0.2, P.instances), np.maximum(residuals[m][L_hi], 1e-5), s=14, **style[m])
    ax.hlines(max(med[m][L_hi], 1e-5), i - 0.3, i + 0.3, color="k")
ax.set_xticks(range(len(at_hi)), [SOLVERS[m].name.split(":")[0] for m in at_hi], rotation=30, ha="right")
ax.set(yscale="log", ylabel="residual energy per spin", title=f"L = {L_hi} (N = {L_hi**3}): every instance; line: median")
fig_s4 = ch.figure(fig, "s4_largest_L", "Figure S4",
                   f"Residual energy per spin of each instance at L = {L_hi} and the longest schedule (median over runs; values "
                   "below 1e-5 drawn at 1e-5).", data)

# %%
display(Markdown(rule_text(rules.s4)))
baselines = [*THERMAL, "langevin"]
s4 = rules.s4({m: residuals[m] for m in at_hi}, [m for m in ATTENTION if m in at_hi], baselines)
best_base = min(baselines, key=med_hi.get)
ch.record("S4", verdict=s4, figure=fig_s4, data=data,
          summary="at L={L_hi} (N={N}): best attention reading {att:.4f} vs best baseline ({base}) {base_v:.4f} median residual per spin",
          measured=dict(L_hi=L_hi, N=L_hi**3, att=min(med[m][L_hi] for m in ATTENTION if m in at_hi), base=SOLVERS[best_base].name,
                        base_v=med[best_base][L_hi]),
          notes="" if L_hi == 12 else f"The paper's claim is at L = 12; this run's largest L is {L_hi}.")
print("S4:", s4)

# %% [markdown]
# (claim-a1)=
# ## A1: how time to solution grows with N
#
# Median $\mathrm{TTS}_{99}$ over instances against $N = L^3$, in sweeps, in seconds on this machine and in
# FLOPs. Filled markers are measured medians; hollow up-triangles are lower bounds (half the instances or
# more had no successful run, or a bound could move the median). The criterion, fixed before the run: over
# the sizes where a solver's median was measured, fit $\ln \mathrm{TTS} = c + bN$ (exponential) and
# $\ln \mathrm{TTS} = c + k \ln N$ (power law); a fit is decisive when one form's residual is more than twice
# the other's.

# %%
summary = {m: {L: median_tts(results[L][m]["tts"], results[L][m]["measured"], seed=ch.seed) for L in P.sizes if m in results[L]}
           for m in P.solvers}
fig, axes = plt.subplots(1, 3, figsize=(PAGE_WIDTH_IN, 4.4))
for m in P.solvers:
    Ls = sorted(summary[m])
    n = np.array(Ls) ** 3
    bound = np.array([summary[m][L]["bound"] for L in Ls])
    for ax, key in zip(axes, (None, "seconds_per_sweep", "flops_per_sweep")):
        unit = np.array([results[L][m][key] if key else 1.0 for L in Ls])  # sweeps -> seconds or FLOPs
        y, low, high = (np.array([summary[m][L][q] for L in Ls]) * unit for q in ("median", "low", "high"))
        ax.plot(n, y, "-", color=style[m]["color"], alpha=0.5)
        ax.errorbar(n[~bound], y[~bound], yerr=[y[~bound] - low[~bound], high[~bound] - y[~bound]], fmt=style[m]["marker"],
                    color=style[m]["color"], capsize=3, label=SOLVERS[m].name)
        ax.scatter(n[bound], y[bound], facecolors="none", edgecolors=style[m]["color"], marker="^", s=60)
for ax, lab in zip(axes, ("TTS99 (sweeps)", "TTS99 (seconds, this CPU)", "TTS99 (FLOPs)")):
    ax.set(xscale="log", yscale="log", xlabel="spins N = L^3", ylabel=lab)
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xticks([L**3 for L in P.sizes], [str(L**3) for L in P.sizes], rotation=45)
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3)
fig_a1 = ch.figure(fig, "a1_tts_vs_N", "Figure A1",
                   "Median time to solution (99%) against N, in sweeps, wall time and FLOPs, with 95% bootstrap intervals over "
                   "instances where the median is measured; hollow triangles are lower bounds.", data)
rows = [{"solver": SOLVERS[m].name, **{f"L = {L}": ("not run" if L not in summary[m] else f">= {summary[m][L]['median']:.3g}"
                                       if summary[m][L]["bound"] else "{median:.3g} [{low:.3g}, {high:.3g}]".format(**summary[m][L]))
                                       for L in P.sizes}} for m in P.solvers]
display(format_table(pd.DataFrame(rows), caption=f"Median TTS99 in sweeps per instance with its 95% bootstrap interval over "
                     f"instances (>=: a lower bound; 'not run': "
                     f"reading (c) stops at L = {P.dense_attention_max_L} at this scale)"))

# %%
display(Markdown(rule_text(rules.a1)))
fits = {m: f for m in P.solvers if (f := tts_growth(sorted(summary[m]), [summary[m][L] for L in sorted(summary[m])])) is not None}
for m, f in fits.items():
    print(f"{SOLVERS[m].name:36s} sizes {f['sizes']}: residual exp {f['rss_exp']:.3f}, power {f['rss_power']:.3f}; "
          f"exponent {f['exponent']:.2f}")
a1 = rules.a1(fits, ATTENTION, THERMAL)
measured_sizes = {m: sum(not s["bound"] for s in summary[m].values()) for m in P.solvers}
bounded_everywhere = [L for L in P.sizes if all(summary[m][L]["bound"] for m in P.solvers if L in summary[m])]
ch.record("A1", verdict=a1, figure=fig_a1, data=data,
          summary="sizes with a measured median TTS: {counts}; fits decisive for {n_decisive} of {n_fitted} solvers",
          measured=dict(counts=", ".join(f"{SOLVERS[m].name.split(':')[0]} {k}/{len(summary[m])}" for m, k in measured_sizes.items()),
                        n_decisive=sum(max(f["rss_exp"], f["rss_power"]) > 2 * min(f["rss_exp"], f["rss_power"]) for f in fits.values()),
                        n_fitted=len(fits)),
          notes=f"TTS99 from {P.runs} runs per instance and length, lengths {P.lengths} sweeps per run." + (
              f" Every solver's median is only a lower bound at L = {bounded_everywhere}: success there is rarer than one run in "
              f"{P.runs} at {P.lengths[-1]:,} sweeps on most instances; more runs and longer schedules (the full "
              "preset's, on a GPU) are what would measure it." if bounded_everywhere else ""))
print("A1:", a1)

# %% [markdown]
# ## Summary
#
# The verdicts below are read back from what this notebook recorded for the ledger:

# %%
display(Markdown(chapter_summary(ch.output_dir, "spinglass")))

# %% [markdown]
# Every attention reading is Langevin dynamics plus one non-local term, so its gain or loss against the
# Langevin row is what the term buys at the same budget, and the thermal rows are what the field would
# use instead. At `ci` ($L \le 8$, 4 instances, 4 runs, schedules to 1,024 sweeps) every verdict is a smoke test of the
# code path; `laptop` reruns the same code for $L$ up to 12 with 16 instances, 8 runs and schedules to 16,384 sweeps.
#
# ## References
#
# - Rønnow, T. F. et al. (2014). Defining and detecting quantum speedup. *Science* 345, 420.
# - Aramon, M. et al. (2019). Physics-inspired optimization for quadratic unconstrained problems using a digital annealer. *Front. Phys.* 7, 48.
# - Hukushima, K., Iba, Y. (2003). Population annealing and its application to a spin glass. *AIP Conf. Proc.* 690, 200; Machta, J. (2010). Population annealing with weighted averages. *Phys. Rev. E* 82, 026704; Wang, W., Machta, J., Katzgraber, H. G. (2015). Population annealing: theory and application in spin glasses. *Phys. Rev. E* 92, 063307.
# - Houdayer, J. (2001). A cluster Monte Carlo algorithm for 2-dimensional spin glasses. *Eur. Phys. J. B* 22, 479; Zhu, Z., Ochoa, A. J., Katzgraber, H. G. (2015). Efficient cluster algorithm for spin glasses in any space dimension. *Phys. Rev. Lett.* 115, 077201.
# - Edwards, S. F., Anderson, P. W. (1975). Theory of spin glasses. *J. Phys. F* 5, 965.
# - Hukushima, K., Nemoto, K. (1996). Exchange Monte Carlo method and application to spin glass simulations. *J. Phys. Soc. Jpn.* 65, 1604.
# - Kirkpatrick, S., Gelatt, C. D., Vecchi, M. P. (1983). Optimization by simulated annealing. *Science* 220, 671.
# - Pal, K. F. (1996). The ground state of the cubic spin glass with short-range interactions of Gaussian distribution. *Physica A* 233, 60.
# - Romá, F., Risau-Gusman, S., Ramirez-Pastor, A. J., Nieto, F., Vogel, E. E. (2009). The ground state energy of the Edwards-Anderson spin glass model with a parallel tempering Monte Carlo algorithm. *Physica A* 388, 2821.
# - Hartmann, A. K. (1999). Scaling of stiffness energy for three-dimensional ±J Ising spin glasses. *Phys. Rev. E* 59, 84; Boettcher, S. (2004). Stiffness exponents for lattice spin glasses in dimensions d = 3, ..., 6. *Eur. Phys. J. B* 38, 83.
# - Pinnau, R., Totzeck, C., Tse, O., Martin, S. (2017). A consensus-based model for global optimization. *Math. Models Methods Appl. Sci.* 27, 183.
# - Vaswani, A. et al. (2017). Attention is all you need. *NeurIPS* (the attention of reading (c)).
