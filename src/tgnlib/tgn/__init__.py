"""The Thermodynamic Gated Network (chapter 2.5): config, inertial and geometric streams, the model."""

from .config import TGNConfig
from .model import TGNLanguageModel

__all__ = ["TGNConfig", "TGNLanguageModel"]
