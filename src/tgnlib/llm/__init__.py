"""Pretrained language models: loading them (online or from a package), and reading their insides.

* :mod:`~tgnlib.llm.encoder` -- a BERT-type encoder (MiniLM): its queries and keys, its hidden states;
* :mod:`~tgnlib.llm.causal` -- causal LMs from the hub or from a PyPI package, and random-init controls;
* :mod:`~tgnlib.llm.inside` -- residual stream, attention/MLP ablation, attention temperature, perplexity;
* :mod:`~tgnlib.llm.geometry` -- effective rank of the residual stream per layer;
* :mod:`~tgnlib.llm.data` -- token blocks of real text.
"""

from .encoder import (capture_queries_keys, encode_documents, encoder_hidden_states, load_packaged_encoder,
                      packaged_model_path)

__all__ = ["capture_queries_keys", "encode_documents", "encoder_hidden_states", "load_packaged_encoder", "packaged_model_path"]
