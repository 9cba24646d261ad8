"""FreeU and Kohya deep shrink on a tiny random UNet built from a config, and through the diffusers service."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from deforum.integrations.diffusers.unet_tweaks import apply_freeu, deep_shrink, in_range, input_modules
from deforum.models.generation import DeepShrink, FreeU
from tests.integrations.diffusers.test_diffusers_service import differ, gen, service  # noqa: F401

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")

FREEU = FreeU(b1=1.3, b2=1.4, s1=0.9, s2=0.2)
SHRINK = DeepShrink(block_number=1, downscale_factor=2.0, start_percent=0.0, end_percent=1.0)


@pytest.fixture(scope="module")
def unet():
    """A three-level SD-shaped UNet (6 input blocks) with random weights."""
    from diffusers import UNet2DConditionModel

    torch.manual_seed(0)
    return UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(32, 64, 64),
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32,
        attention_head_dim=4, norm_num_groups=16).eval()


def run(unet, timestep: float = 500.0):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(1, 4, 16, 16, generator=generator)
    context = torch.randn(1, 5, 32, generator=generator)
    with torch.inference_mode():
        return unet(x, torch.tensor([timestep]), encoder_hidden_states=context).sample


def shape_into(module) -> tuple[list, object]:
    """The spatial sizes of a module's input, one per call."""
    sizes: list[tuple[int, int]] = []
    handle = module.register_forward_pre_hook(lambda _m, args: sizes.append(tuple(args[0].shape[-2:])))
    return sizes, handle


def test_freeu_changes_the_output_and_equals_diffusers_enable_freeu(unet) -> None:
    plain = run(unet)
    assert apply_freeu(unet, FREEU)
    ours = run(unet)
    unet.disable_freeu()
    unet.enable_freeu(s1=0.9, s2=0.2, b1=1.3, b2=1.4)
    theirs = run(unet)
    apply_freeu(unet, None)
    assert torch.equal(ours, theirs) and not torch.allclose(ours, plain, atol=1e-4)
    assert torch.equal(run(unet), plain)


def test_a_model_without_freeu_says_so() -> None:
    assert not apply_freeu(object(), FREEU) and apply_freeu(object(), None)


def test_the_input_blocks_are_counted_as_in_the_webui(unet) -> None:
    blocks = input_modules(unet)
    assert len(blocks) == 6 and blocks[0][0] is unet.conv_in and blocks[2][0] is unet.down_blocks[0].downsamplers[0]
    assert blocks[1] == (unet.down_blocks[0].resnets[0], unet.down_blocks[0].attentions[0])


def test_deep_shrink_shrinks_the_chosen_block_and_grows_it_back(unet) -> None:
    plain = run(unet)
    sizes, handle = shape_into(unet.mid_block)
    try:
        with deep_shrink(unet, SHRINK) as applied:
            shrunk = run(unet)
        after = run(unet)
    finally:
        handle.remove()
    assert applied and sizes == [(2, 2), (4, 4)]
    assert shrunk.shape == plain.shape and bool(torch.isfinite(shrunk).all())
    assert not torch.allclose(shrunk, plain, atol=1e-4) and torch.equal(after, plain)


def skip_and_next(unet, shrink: DeepShrink):
    """The output of block 1 (its skip connection) and of the downsampler after it, with the shrink on."""
    sizes: list[tuple[int, int]] = []
    with deep_shrink(unet, shrink):
        handles = [unet.down_blocks[0].attentions[0].register_forward_hook(
                       lambda _m, _a, out: sizes.append(tuple(out[0].shape[-2:]))),
                   unet.down_blocks[0].downsamplers[0].register_forward_hook(
                       lambda _m, _a, out: sizes.append(tuple(out.shape[-2:])))]
        result = run(unet)
    for handle in handles:
        handle.remove()
    return sizes, result


def test_after_skip_the_skip_stays_whole_and_the_next_block_is_shrunk(unet) -> None:
    after_sizes, after_skip = skip_and_next(unet, dataclasses.replace(SHRINK, downscale_after_skip=True))
    before_sizes, before_skip = skip_and_next(unet, SHRINK)
    assert after_sizes == [(16, 16), (4, 4)] and before_sizes == [(8, 8), (4, 4)]  # 8×8 after the plain downsampler
    assert not torch.allclose(after_skip, before_skip, atol=1e-4)


def test_a_factor_of_one_or_a_step_outside_the_range_changes_nothing(unet) -> None:
    plain = run(unet, 900.0)
    with deep_shrink(unet, dataclasses.replace(SHRINK, downscale_factor=1.0)):
        assert torch.allclose(run(unet, 900.0), plain, atol=1e-6)
    with deep_shrink(unet, dataclasses.replace(SHRINK, start_percent=0.5)):
        assert torch.equal(run(unet, 900.0), plain)


@pytest.mark.parametrize(("timestep", "start", "end", "expected"), [
    (999.0, 0.0, 0.35, True), (650.0, 0.0, 0.35, True), (640.0, 0.0, 0.35, False), (0.0, 0.0, 1.0, True),
    (900.0, 0.2, 1.0, False), (799.0, 0.2, 1.0, True),
])
def test_the_percent_range_counts_from_the_noisiest_step(timestep: float, start: float, end: float,
                                                         expected: bool) -> None:
    shrink = dataclasses.replace(SHRINK, start_percent=start, end_percent=end)
    assert in_range(timestep, shrink) is expected


def test_a_block_number_beyond_the_model_names_the_setting(unet) -> None:
    with pytest.raises(ValueError, match="kohya_hrfix_block_number.*0 to 5"):
        with deep_shrink(unet, dataclasses.replace(SHRINK, block_number=6)):
            pass


def test_the_service_applies_them_per_frame_and_removes_them_after(service) -> None:  # noqa: F811
    plain = gen(service)
    with_freeu = gen(service, freeu=FREEU)
    shrunk = gen(service, deep_shrink=SHRINK)
    assert differ(with_freeu, plain) > 0 and differ(shrunk, plain) > 0 and differ(shrunk, with_freeu) > 0
    assert np.array_equal(gen(service), plain)
