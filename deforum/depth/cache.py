"""Keeping a depth model loaded: once per run, or across runs with the keep_3d_models_in_vram option."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

from deforum.depth.algorithms import resolve_algorithm
from deforum.depth.estimator import TransformersDepthEstimator, load_network

if TYPE_CHECKING:
    from deforum.depth.network import DepthNetwork

log = logging.getLogger(__name__)


class DepthModelCache:
    """Holds at most one depth network, the way the original's depth model singleton did.

    ``estimator()`` loads the model on first use in a run and reuses it while the model, models folder, device
    and precision stay the same (another choice frees the old one first). ``end_run()`` frees it unless the
    run asked to keep it (the WebUI option ``deforum_keep_3d_models_in_vram``), so the next run starts without
    reloading. ``release()`` frees it unconditionally. Estimators it hands out do not free the model on close().
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._network: DepthNetwork | None = None
        self._key: tuple[object, ...] | None = None
        self._keep = False

    @property
    def loaded_model(self) -> str | None:
        """The supported model currently held, or None."""
        return None if self._key is None else str(self._key[0])

    def estimator(self, algorithm: str, *, models_dir: str | os.PathLike[str] | None = None,
                  device: str | None = None, half: bool | None = None, midas_weight: float = 0.2,
                  keep_in_vram: bool = False) -> TransformersDepthEstimator:
        """An estimator for ``algorithm`` over the cached network (loaded now when needed)."""
        key = (resolve_algorithm(algorithm), str(models_dir or ""), device, half)
        with self._lock:
            if self._network is not None and key != self._key:
                self._free()
            if self._network is None:
                self._network = load_network(algorithm, models_dir=models_dir, device=device, half=half)
                self._key = key
            self._keep = keep_in_vram
            return TransformersDepthEstimator(self._network, algorithm, midas_weight, owns_network=False)

    def end_run(self) -> None:
        """Call when a render ends: frees the model unless that run set keep_in_vram."""
        with self._lock:
            if not self._keep:
                self._free()

    def release(self) -> None:
        """Free the model now, whatever the keep option says."""
        with self._lock:
            self._free()

    def _free(self) -> None:
        """Close the held network (lock held by the caller)."""
        if self._network is not None:
            log.info("Freeing depth model %s.", self.loaded_model)
            self._network.close()
        self._network = None
        self._key = None


DEPTH_MODEL_CACHE = DepthModelCache()
