"""causalmix: causal data augmentation for fine-tuning tabular foundation models (CausalMixFT)."""

from causalmix.model import build_architecture, load_classifier, resolve_device, save_checkpoint

__version__ = "0.1.0"
