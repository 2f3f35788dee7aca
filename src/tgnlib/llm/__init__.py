"""Pretrained language models: loading them (online or from a package), and reading their insides.

* :mod:`~tgnlib.llm.encoder` -- queries and keys of a BERT-type encoder (MiniLM, chapter 2.1);
* :mod:`~tgnlib.llm.causal` -- causal LMs from the hub or from a PyPI package, and random-init controls;
* :mod:`~tgnlib.llm.inside` -- residual stream, attention/MLP ablation, attention temperature, perplexity;
* :mod:`~tgnlib.llm.geometry` -- effective rank of the residual stream per layer;
* :mod:`~tgnlib.llm.data` -- token blocks of real text.
"""

from .encoder import capture_queries_keys, encode_documents, load_packaged_encoder, packaged_model_path

__all__ = ["capture_queries_keys", "encode_documents", "load_packaged_encoder", "packaged_model_path"]
