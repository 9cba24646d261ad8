"""Benchmark: the diffusers model service's own per-frame work, with the networks stubbed out.

Run: ``.venv/bin/python bench/bench_diffusers.py [--repeats N]``. One CPU thread. The UNet, VAE and text
encoder are replaced by stubs that return tensors of the right shapes at no cost, so the figures are what the
service adds around them at 512×512. "Service" is everything outside the denoising loop: request checks, sampler
resolution, seeding (noise, subseed slerp), scheduler set-up, prompt tokenizing and caching, init-image
conversion and noising, output conversion. "Loop" is the denoising loop with the UNet stubbed: diffusers'
scheduler steps plus the guidance arithmetic, which scales with the steps run. Printed as a markdown table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deforum.integrations.diffusers import sampling  # noqa: E402
from deforum.integrations.diffusers.parts import ModelParts  # noqa: E402
from deforum.integrations.diffusers.samplers import resolve_sampler  # noqa: E402
from deforum.integrations.diffusers.sampling import img2img_runs  # noqa: E402
from deforum.integrations.diffusers.service import DiffusersModelService  # noqa: E402
from deforum.integrations.diffusers.testing import SCHEDULER_CONFIG, write_tiny_tokenizer  # noqa: E402
from deforum.integrations.diffusers.tokenizer import load_clip_tokenizer  # noqa: E402
from deforum.models.generation import GenerationRequest  # noqa: E402

SIZE = 512
BUDGET_MS = 10.0


class StubUNet(torch.nn.Module):
    """Returns a view of its input as the noise prediction."""

    config = SimpleNamespace(in_channels=4, cross_attention_dim=768)

    def forward(self, x: torch.Tensor, t: object, encoder_hidden_states: torch.Tensor,
                added_cond_kwargs: dict | None = None) -> SimpleNamespace:
        """The first four channels of the input."""
        return SimpleNamespace(sample=x[:, :4])

    @property
    def device(self) -> torch.device:
        """CPU."""
        return torch.device("cpu")

    @property
    def dtype(self) -> torch.dtype:
        """float32."""
        return torch.float32


class StubVAE(torch.nn.Module):
    """Encodes to zeros and decodes to zeros of SD's shapes (8× down-sampling, 4 latent channels)."""

    config = SimpleNamespace(block_out_channels=(128, 256, 512, 512), latent_channels=4, scaling_factor=0.18215,
                             shift_factor=None, force_upcast=False)
    dtype = torch.float32

    def encode(self, x: torch.Tensor) -> SimpleNamespace:
        """Zero latents."""
        latents = torch.zeros(x.shape[0], 4, x.shape[2] // 8, x.shape[3] // 8)
        return SimpleNamespace(latent_dist=SimpleNamespace(mode=lambda: latents))

    def decode(self, z: torch.Tensor) -> SimpleNamespace:
        """Zero pixels."""
        return SimpleNamespace(sample=torch.zeros(z.shape[0], 3, z.shape[2] * 8, z.shape[3] * 8))


class StubTextEncoder:
    """Constant hidden states of CLIP-L's width."""

    config = SimpleNamespace(hidden_size=768)
    states = torch.full((1, 77, 768), 0.5)

    def __call__(self, ids: torch.Tensor, output_hidden_states: bool = True) -> SimpleNamespace:
        """Thirteen views of one constant hidden-state tensor."""
        hidden = self.states.expand(ids.shape[0], -1, -1)
        return SimpleNamespace(last_hidden_state=hidden, hidden_states=(hidden,) * 13)


def stub_service(tokenizer_dir: Path) -> DiffusersModelService:
    """The real service over stub networks."""
    parts = ModelParts(unet=StubUNet(), vae=StubVAE(), tokenizers=(load_clip_tokenizer(tokenizer_dir),),
                       text_encoders=(StubTextEncoder(),), scheduler_config=json.loads(SCHEDULER_CONFIG.read_text()),
                       name="stub")
    return DiffusersModelService(parts)


CASES = (
    ("txt2img, 25 steps", "Euler a", {}),
    ("img2img, 25 steps × 0.35", "Euler a", {"denoising_strength": 0.35}),
    ("img2img, 25 steps × 0.35", "DPM++ 2M Karras", {"denoising_strength": 0.35}),
    ("img2img, 25 steps × 0.35", "DPM++ 2M SDE", {"denoising_strength": 0.35}),
    ("img2img, 25 steps × 0.35", "DDIM", {"denoising_strength": 0.35}),
    ("img2img + subseed 0.3 + new prompt", "Euler a", {"denoising_strength": 0.35, "subseed": 9,
                                                       "subseed_strength": 0.3}),
    ("img2img, 50 steps × 0.65", "DPM++ 2M Karras", {"denoising_strength": 0.65, "steps": 50}),
)


class LoopTimer:
    """Accumulates the time spent in the denoising loop (scheduler steps and guidance around the stub UNet)."""

    def __init__(self) -> None:
        self.ms = 0.0

    def wrap(self, function: Callable) -> Callable:
        """`function`, timed into self.ms."""
        def timed(*args: object, **kwargs: object) -> object:
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.ms += (time.perf_counter() - start) * 1000

        return timed


def time_case(service: DiffusersModelService, timer: LoopTimer, sampler: str, changes: dict,
              repeats: int) -> tuple[list[float], list[float], int]:
    """(ms per frame outside the loop, ms per frame in the loop, steps run) over `repeats` frames."""
    init = np.random.default_rng(0).integers(0, 256, (SIZE, SIZE, 3), dtype=np.uint8)
    fields = dict(changes)
    steps = int(fields.pop("steps", 25))
    img2img = "denoising_strength" in fields
    new_prompt = "subseed" in fields
    base = GenerationRequest(frame=0, prompt="a cat", negative_prompt="red", seed=1, width=SIZE, height=SIZE,
                             steps=steps, cfg_scale=7.0, sampler=sampler, init_image=init if img2img else None,
                             **fields)
    around, loop = [], []
    for frame in range(repeats + 2):
        prompt = f"a cat {frame}" if new_prompt else base.prompt
        request = dataclasses.replace(base, frame=frame, seed=frame, prompt=prompt)
        timer.ms = 0.0
        start = time.perf_counter()
        service.generate(request)
        total = (time.perf_counter() - start) * 1000
        around.append(total - timer.ms)
        loop.append(timer.ms)
    choice = resolve_sampler(sampler)
    runs = img2img_runs(steps, base.denoising_strength, choice.timestep_based) if img2img else steps
    return around[2:], loop[2:], runs


def main() -> int:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    timer = LoopTimer()
    sampling.denoise = timer.wrap(sampling.denoise)
    rows = ["| case | sampler | steps run | service ms/frame (p90) | loop ms/frame | loop ms/step | service < 10 ms |",
            "|---|---|---:|---:|---:|---:|:---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        service = stub_service(write_tiny_tokenizer(Path(tmp) / "tokenizer"))
        for label, sampler, changes in CASES:
            around, loop, runs = time_case(service, timer, sampler, changes, args.repeats)
            median, p90 = statistics.median(around), sorted(around)[int(0.9 * (len(around) - 1))]
            loop_ms = statistics.median(loop)
            rows.append(f"| {label} | {sampler} | {runs} | {median:.2f} ({p90:.2f}) | {loop_ms:.2f} | "
                        f"{loop_ms / max(runs, 1):.2f} | {'yes' if median < BUDGET_MS else 'NO'} |")
    print(f"{SIZE}×{SIZE}, UNet/VAE/text encoder stubbed, one CPU thread, median of {args.repeats} frames per case. "
          "'service' is everything outside the denoising loop; 'loop' is diffusers' scheduler steps plus the "
          "guidance arithmetic around the stub UNet.\n")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
