"""Per-frame UNet tweaks of the Forge fork, standalone: FreeU (diffusers' own) and Kohya deep shrink (UNet hooks).

Deep shrink counts input blocks as the WebUI's UNet does (0 is conv_in; 1, 2 the first stage's layers; 3 its
downsampler; ...): the chosen block's output is shrunk while sampling is between the start and end percent, and each
up-path tensor is grown back to its skip connection's size before they are joined, as Forge's Kohya HR fix does.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from deforum.models.generation import DeepShrink, FreeU

log = logging.getLogger(__name__)

TIMESTEPS = 999.0
TORCH_MODES = {"bicubic": "bicubic", "nearest-exact": "nearest-exact", "bilinear": "bilinear", "area": "area",
               "bislerp": "bilinear"}


def apply_freeu(unet: Any, freeu: FreeU | None) -> bool:
    """Switch diffusers' FreeU on with the frame's factors (off for None); False when the model has no FreeU."""
    if not hasattr(unet, "enable_freeu"):
        return freeu is None
    if freeu is None:
        unet.disable_freeu()
    else:
        unet.enable_freeu(s1=freeu.s1, s2=freeu.s2, b1=freeu.b1, b2=freeu.b2)
    return True


def input_modules(unet: Any) -> list[tuple[Any, Any]]:
    """The WebUI UNet's input blocks in order (conv_in, each layer, downsamplers): (first module, last module)."""
    modules = [(unet.conv_in, unet.conv_in)]
    for block in unet.down_blocks:
        attentions = getattr(block, "attentions", None)
        for index, resnet in enumerate(block.resnets):
            modules.append((resnet, attentions[index] if attentions else resnet))
        modules.extend((down, down) for down in block.downsamplers or ())
    return modules


def output_producers(unet: Any) -> list[Any]:
    """For each join of the up path with a skip connection, in order: the module whose output is joined."""
    producers, previous = [], unet.mid_block
    for block in unet.up_blocks:
        attentions = getattr(block, "attentions", None)
        for index, resnet in enumerate(block.resnets):
            producers.append(previous)
            previous = attentions[index] if attentions else resnet
        if block.upsamplers:
            previous = block.upsamplers[0]
    return producers


def resize(tensor: Any, size: tuple[int, int], method: str) -> Any:
    """A (B, C, H, W) tensor resized to `size` (H, W) by a WebUI method name (bislerp: bilinear)."""
    import torch

    mode = TORCH_MODES[method]
    corners = {"align_corners": False} if mode in ("bilinear", "bicubic") else {}
    return torch.nn.functional.interpolate(tensor, size=size, mode=mode, **corners)


def in_range(timestep: float, shrink: DeepShrink) -> bool:
    """Whether a model call at `timestep` (0..999) lies between the start and end percent of sampling."""
    starts = shrink.start_percent <= 0 or timestep <= (1.0 - shrink.start_percent) * TIMESTEPS
    ends = shrink.end_percent >= 1 or timestep >= (1.0 - shrink.end_percent) * TIMESTEPS
    return starts and ends


def _tensor_of(output: Any) -> Any:
    """The hidden states of a block's output (a tensor, a tuple, or a diffusers output with .sample)."""
    if isinstance(output, tuple):
        return output[0]
    return getattr(output, "sample", output)


def _with_tensor(output: Any, tensor: Any) -> Any:
    """The block's output with its hidden states replaced."""
    if isinstance(output, tuple):
        return (tensor, *output[1:])
    if hasattr(output, "sample"):
        output.sample = tensor
        return output
    return tensor


class _DeepShrinkHooks:
    """The state shared by the hooks of one generation: whether this model call shrinks, the skip sizes."""

    def __init__(self, shrink: DeepShrink, blocks: int) -> None:
        self.shrink, self.blocks = shrink, blocks
        self.active = False
        self.skips: list[tuple[int, int]] = []

    def start_call(self, _module: Any, args: tuple, kwargs: dict) -> None:
        """Before each UNet call: read its timestep, forget the previous call's skips."""
        timestep = args[1] if len(args) > 1 else kwargs["timestep"]
        value = float(timestep.flatten()[0]) if hasattr(timestep, "flatten") else float(timestep)
        self.active, self.skips = in_range(value, self.shrink), []

    def shrunk(self, tensor: Any) -> Any:
        """The tensor shrunk by the downscale factor."""
        factor = 1.0 / self.shrink.downscale_factor
        size = (max(1, round(tensor.shape[-2] * factor)), max(1, round(tensor.shape[-1] * factor)))
        return resize(tensor, size, self.shrink.downscale_method)

    def input_done(self, index: int) -> Any:
        """A forward hook for input block `index`: shrink it (before the skip) and note the skip's size."""

        def hook(_module: Any, _args: Any, output: Any) -> Any:
            tensor = _tensor_of(output)
            if self.active and index == self.shrink.block_number and not self.shrink.downscale_after_skip:
                tensor = self.shrunk(tensor)
                output = _with_tensor(output, tensor)
            self.skips.append(tuple(tensor.shape[-2:]))
            return output

        return hook

    def after_skip(self, _module: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict] | None:
        """A pre-hook on the module after the chosen block: shrink its input, the skip kept whole."""
        if not self.active:
            return None
        if args:
            return (self.shrunk(args[0]), *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": self.shrunk(kwargs["hidden_states"])}

    def join(self, index: int) -> Any:
        """A forward hook on the module feeding join `index`: grow it to its skip connection's size."""

        def hook(_module: Any, _args: Any, output: Any) -> Any:
            tensor = _tensor_of(output)
            target = self.skips[len(self.skips) - 1 - index] if index < len(self.skips) else None
            if target is None or tuple(tensor.shape[-2:]) == target:
                return output
            return _with_tensor(output, resize(tensor, target, self.shrink.upscale_method))

        return hook


@contextlib.contextmanager
def deep_shrink(unet: Any, shrink: DeepShrink | None) -> Iterator[bool]:
    """Kohya deep shrink on `unet` for the calls inside (nothing for None); yields False when it cannot apply."""
    if shrink is None or not all(hasattr(unet, name) for name in ("down_blocks", "up_blocks", "mid_block")):
        yield shrink is None
        return
    inputs = input_modules(unet)
    if not 0 <= shrink.block_number < len(inputs):
        raise ValueError(f"Setting 'kohya_hrfix_block_number': {shrink.block_number} is not an input block of this "
                         f"model (0 to {len(inputs) - 1}).")
    state = _DeepShrinkHooks(shrink, len(inputs))
    handles = [unet.register_forward_pre_hook(state.start_call, with_kwargs=True)]
    handles += [last.register_forward_hook(state.input_done(i)) for i, (_, last) in enumerate(inputs)]
    if shrink.downscale_after_skip:
        following = [*(first for first, _ in inputs), unet.mid_block][shrink.block_number + 1]
        handles.append(following.register_forward_pre_hook(state.after_skip, with_kwargs=True))
    handles += [module.register_forward_hook(state.join(i)) for i, module in enumerate(output_producers(unet))]
    try:
        yield True
    finally:
        for handle in handles:
            handle.remove()
