"""Robust Video Matting (ResNet-50) built from the architecture: layout, recurrence, loading, alpha bytes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from deforum.config.weights import ModelWeightsMissing
from deforum.integrations.features.matting import HumanMatting, auto_downsample_ratio, load_human_matting, load_network
from deforum.integrations.features.matting.network import MattingNetwork


@pytest.fixture(scope="module")
def network() -> MattingNetwork:
    """Random weights, with the alpha head scaled so mattes are not all 0 or 1."""
    torch.manual_seed(0)
    net = MattingNetwork().eval()
    with torch.no_grad():
        net.project_mat.conv.weight.mul_(0.01)
        net.project_mat.conv.bias.fill_(0.5)
        net.refiner.conv[6].weight.mul_(0.01)
    return net


def _frames(count: int, shape: tuple[int, int]) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.integers(0, 256, (*shape, 3), dtype=np.uint8) for _ in range(count)]


def test_the_layout_is_the_published_rvm_resnet50(network):
    state = network.state_dict()
    assert len(state) == 390
    assert sum(v.numel() for k, v in state.items() if "num_batches" not in k) == 26_944_669  # "26.9M"
    for key in ("backbone.layer4.2.conv3.weight", "aspp.aspp2.1.weight", "decoder.decode4.gru.ih.0.bias",
                "decoder.decode0.conv.4.running_var", "project_seg.conv.bias", "refiner.box_filter.weight",
                "refiner.conv.6.bias"):
        assert key in state
    assert "backbone.fc.weight" not in state


def test_auto_downsample_ratio_brings_the_long_side_to_512():
    assert auto_downsample_ratio(1080, 1920) == pytest.approx(512 / 1920)
    assert auto_downsample_ratio(300, 400) == 1.0


def test_the_recurrent_state_carries_earlier_frames_into_later_ones(network):
    first, second = (torch.from_numpy(f).permute(2, 0, 1)[None].float() / 255 for f in _frames(2, (40, 60)))
    with torch.no_grad():
        _, _, states = network(first)
        _, after_first, _ = network(second, states)
        _, alone, _ = network(second)
    assert all(s is not None for s in states)
    assert not torch.equal(after_first, alone)


class RecordingNetwork(torch.nn.Module):
    """A network stand-in: alpha 0.9999 everywhere; records the states and ratio it was given."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[tuple, float]] = []

    def forward(self, src, states, ratio):
        self.calls.append((states, ratio))
        return src, torch.full_like(src[:, :1], 0.9999), (src, src, src, src)


def test_alphas_pass_the_states_along_and_truncate_to_bytes_like_the_original():
    stub = RecordingNetwork()
    alphas = list(HumanMatting(stub, device="cpu").alphas(_frames(2, (40, 1024))))  # type: ignore[arg-type]
    assert [a.shape for a in alphas] == [(40, 1024)] * 2 and alphas[0].dtype == np.uint8
    assert (alphas[1] == 254).all()  # 0.9999 × 255 truncated, as RVM's converter wrote bytes
    assert stub.calls[0] == ((None, None, None, None), 0.5)
    assert stub.calls[1][0][0] is not None and stub.calls[1][1] == 0.5


def test_large_frames_are_matted_at_512_and_refined_to_full_size(network):
    frame, = _frames(1, (120, 700))
    alpha, = HumanMatting(network, device="cpu").alphas([frame])
    assert alpha.shape == (120, 700)


def test_weights_load_from_a_state_dict_file_and_other_files_are_refused(network, tmp_path: Path):
    path = tmp_path / "rvm_resnet50.pth"
    torch.save(network.state_dict(), path)
    loaded = load_network(path)
    frame, = _frames(1, (32, 32))
    expected, = HumanMatting(network, device="cpu").alphas([frame])
    assert np.array_equal(next(HumanMatting(loaded, device="cpu").alphas([frame])), expected)
    wrong = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, wrong)
    with pytest.raises(ValueError, match="rvm_resnet50.pth"):
        load_network(wrong)


def test_missing_weights_name_the_file_and_where_to_put_it(tmp_path: Path):
    with pytest.raises(ModelWeightsMissing, match=r"rvm_resnet50\.pth") as info:
        load_human_matting(tmp_path)
    assert "Downloads are off" in str(info.value) and "deforum models download rvm" in str(info.value)
