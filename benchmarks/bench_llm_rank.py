"""Rank extraction from a language model vs a plain forward pass of the same batch.

Target (issues 5 and 15): hooks + batched rank of every layer at most 1.25x the time of the plain
forward pass (CPU here, CUDA when available), with the per-token norms (sink diagnostics) and the three
curves of chapter 2.3 (all tokens, without sinks, standardised) included. Also: batched torch rank of
all layers vs a per-layer numpy loop, and the full measurement (:func:`tgnlib.llm.geometry.measure_model`: three estimators, raw and
standardised, per sequence and pooled) for reference. Model: SmolLM2-135M-Instruct (packaged, 4-bit
weights dequantised to float32), 4 sequences of 256 tokens of Wikipedia text. Where the packaged model
cannot travel (a device call carries 64 MiB), ``--random-weights DIR`` builds the same architecture from
the ``config.json`` in DIR with random weights and feeds random token ids: the forward pass costs the
same, but the spectra lack the trained model's massive activations, so the rank timings are indicative.

    python benchmarks/bench_llm_rank.py [--device cuda] [--random-weights DIR]
"""

import argparse
from pathlib import Path

import torch
from timing import best_of
from transformers import AutoConfig, AutoModelForCausalLM

from tgnlib import rank
from tgnlib.llm.causal import load_causal_lm
from tgnlib.llm.data import token_blocks
from tgnlib.llm.geometry import curve_ranks, measure_model, sink_diagnostics
from tgnlib.llm.inside import residual_stream
from tgnlib.text import load_corpus


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--cache", default=str(Path("_build") / "cache" / "llm"))
    parser.add_argument("--random-weights", metavar="DIR", help="folder with SmolLM2's config.json: random weights and tokens")
    args = parser.parse_args()
    if args.random_weights:
        config = AutoConfig.from_pretrained(args.random_weights)
        model = AutoModelForCausalLM.from_config(config).to(args.device).eval()
        ids = torch.randint(0, config.vocab_size, (4, 256), generator=torch.Generator().manual_seed(0))
        batch = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    else:
        model, tokenizer = load_causal_lm("SmolLM2-135M-Instruct", device=args.device, cache_dir=args.cache)
        batch = token_blocks(tokenizer, load_corpus(n_docs=300, seed=0), 256, 4)
    batch = {k: v.to(args.device) for k, v in batch.items()}

    @torch.no_grad()
    def plain():
        model(**batch)

    def extract():
        stream = residual_stream(model, batch)["pre_norm"]
        rank.effective_rank(stream, center=True)

    def extract_three_curves():
        stream = residual_stream(model, batch)["pre_norm"]
        sink_diagnostics(stream, top_dims=0)  # as measure_model after its first minibatch
        curve_ranks(stream)

    stream = residual_stream(model, batch)["pre_norm"]
    matrices = stream.reshape(-1, *stream.shape[-2:]).double().cpu().numpy()
    t_plain = best_of(plain, args.device)
    t_extract = best_of(extract, args.device)
    t_three = best_of(extract_three_curves, args.device)
    t_torch = best_of(lambda: rank.effective_rank(stream, center=True), args.device)
    t_loop = best_of(lambda: rank.effective_rank_numpy_loop(matrices, center=True), args.device, repeats=1)
    t_full = best_of(lambda: measure_model(model, batch), args.device, repeats=1)
    weights = " (random weights, random tokens)" if args.random_weights else ""
    print(f"SmolLM2-135M{weights}, 4 x 256 tokens, {args.device} ({torch.get_num_threads()} threads):")
    print(f"  plain forward {t_plain:.3f} s; forward + hooks + rank of all {stream.shape[0]} depths {t_extract:.3f} s: "
          f"ratio {t_extract / t_plain:.2f}x (target <= 1.25x)")
    print(f"  with sink diagnostics and the three curves (all tokens, without sinks, standardised), three estimators: "
          f"{t_three:.3f} s: ratio {t_three / t_plain:.2f}x (target <= 1.25x)")
    print(f"  rank of {len(matrices)} matrices {stream.shape[-2]}x{stream.shape[-1]}: batched torch {t_torch:.3f} s, "
          f"numpy loop {t_loop:.3f} s, speed-up {t_loop / t_torch:.1f}x")
    print(f"  full measure_model (3 estimators x raw/standardised x per-sequence/pooled, perplexity): {t_full:.3f} s "
          f"= {t_full / t_plain:.2f}x the plain forward")


if __name__ == "__main__":
    main()
