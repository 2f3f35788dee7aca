"""Pretrained language models: loading them (online or from a package), and reading their insides."""

from .encoder import capture_queries_keys, encode_documents, load_packaged_encoder, packaged_model_path

__all__ = ["capture_queries_keys", "encode_documents", "load_packaged_encoder", "packaged_model_path"]
