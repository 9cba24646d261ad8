"""RIFE v4.6 frame interpolation: the IFNet in PyTorch, loaded from the original's ``RIFE46.pkl``."""

from deforum.integrations.post.rife.model import RIFE_WEIGHTS, RifeInterpolator, load_ifnet, load_rife
from deforum.integrations.post.rife.network import IFNet

__all__ = ["RIFE_WEIGHTS", "IFNet", "RifeInterpolator", "load_ifnet", "load_rife"]
