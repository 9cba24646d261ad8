"""Loading WebUI checkpoints offline: single-file round trips, diffusers folders, checkpoint switches, errors."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from deforum.integrations.diffusers import export, loading
from deforum.integrations.diffusers.service import DiffusersModelService, load_model_service
from deforum.integrations.diffusers.testing import tiny_pipeline, write_tiny_tokenizer
from deforum.integrations.diffusers.tokenizer import TokenizerNotFound
from deforum.models.generation import GenerationRequest

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
REQUEST = GenerationRequest(frame=0, prompt="the red cat", negative_prompt="", seed=3, width=64, height=64, steps=3,
                            cfg_scale=6.0, sampler="Euler a")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A WebUI-like models folder: Stable-diffusion/{tiny,other}.safetensors and Deforum/tokenizer/."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        root = tmp_path_factory.mktemp("models")
        folder = root / "Stable-diffusion"
        folder.mkdir()
        pipe = tiny_pipeline(write_tiny_tokenizer(root / "Deforum" / "tokenizer"))
        pipe.save_pretrained(root / "tiny-diffusers")
        export.save_single_file(pipe, folder / "tiny.safetensors")
        other = tiny_pipeline(root / "Deforum" / "tokenizer", seed=1)
        export.save_single_file(other, folder / "other.safetensors")
        yield SimpleNamespace(root=root, folder=folder, pipe=pipe, other=other, configs=root / "tiny-diffusers")
    torch.set_num_threads(threads)


def image(service: DiffusersModelService, **changes: object) -> np.ndarray:
    return service.generate(dataclasses.replace(REQUEST, **changes)).image


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_single_file_round_trip(models: SimpleNamespace) -> None:
    service = load_model_service(str(models.folder / "tiny.safetensors"), config_dir=str(models.configs))
    parts = service.parts
    assert same_weights(parts.unet, models.pipe.unet) and same_weights(parts.vae, models.pipe.vae)
    assert same_weights(parts.text_encoders[0], models.pipe.text_encoder)
    assert parts.name == "tiny.safetensors" and parts.scheduler_config["prediction_type"] == "epsilon"
    assert np.array_equal(image(service), image(DiffusersModelService.from_pipeline(models.pipe)))


def test_diffusers_folder_and_ckpt_load_the_same_model(models: SimpleNamespace, tmp_path: Path) -> None:
    expected = image(DiffusersModelService.from_pipeline(models.pipe))
    assert np.array_equal(image(load_model_service(str(models.configs))), expected)
    state = export.pipeline_to_ldm(models.pipe)
    torch.save({"state_dict": state, "global_step": 1}, tmp_path / "tiny.ckpt")
    service = load_model_service(str(tmp_path / "tiny.ckpt"), config_dir=str(models.configs),
                                 models_dir=str(models.root))
    assert np.array_equal(image(service), expected)


def test_checkpoint_switch_reloads_only_when_the_name_changes(models: SimpleNamespace) -> None:
    service = load_model_service(str(models.folder / "tiny.safetensors"), config_dir=str(models.configs))
    loads: list[Path] = []
    loader = service._loader
    service._loader = lambda path: loads.append(path) or loader(path)
    tiny = image(service)
    other = image(service, checkpoint="other.safetensors")
    assert len(loads) == 1 and not np.array_equal(tiny, other)
    assert np.array_equal(image(service, checkpoint="other.safetensors [0123abcd]"), other)
    assert np.array_equal(image(service, checkpoint=None), other)
    assert len(loads) == 1
    assert np.array_equal(image(service, checkpoint="tiny"), tiny)
    assert len(loads) == 2
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        image(service, checkpoint="missing.safetensors")


@pytest.mark.parametrize("name", ["nope.safetensors", "nope"])
def test_missing_checkpoint_names_the_path_and_the_kinds(tmp_path: Path, name: str) -> None:
    with pytest.raises(FileNotFoundError) as error:
        load_model_service(str(tmp_path / name))
    assert str(tmp_path / name) in str(error.value) and ".safetensors" in str(error.value)


@pytest.mark.parametrize(("content", "filename", "message"), [
    (b"not a checkpoint", "broken.safetensors", "Cannot read"),
    (b"not a checkpoint", "broken.ckpt", "Cannot read"),
    (b"hello", "notes.txt", "not a checkpoint file"),
])
def test_unreadable_files_are_clear_errors(tmp_path: Path, content: bytes, filename: str, message: str) -> None:
    (tmp_path / filename).write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        load_model_service(str(tmp_path / filename), tokenizer_dir=str(write_tiny_tokenizer(tmp_path / "t")))
    assert filename in str(error.value)


def test_folder_without_model_index_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="model_index.json"):
        load_model_service(str(tmp_path))


@pytest.mark.parametrize(("keys", "message"), [
    ({"lora_unet_down.alpha": [1]}, "no Stable Diffusion UNet"),
    ({loading.UNET_IN: [1, 4, 3, 3], loading.REFINER_CLIP: [4]}, "refiner"),
    ({loading.UNET_IN: [1, 8, 3, 3]}, "8 input channels"),
    ({"double_blocks.0.img_attn.norm.key_norm.scale": [1]}, "Flux"),
    ({loading.UNET_IN: [1, 4, 3, 3]}, "no recognised text encoder"),
])
def test_unsupported_checkpoints_are_named(tmp_path: Path, keys: dict, message: str) -> None:
    state = {k: torch.zeros(shape) for k, shape in keys.items()}
    with pytest.raises(ValueError, match=message):
        loading.detect_kind(state, tmp_path / "x.safetensors")


def test_mismatched_weights_are_reported(models: SimpleNamespace, tmp_path: Path) -> None:
    state = {k: v for k, v in export.pipeline_to_ldm(models.pipe).items() if "out.2." not in k}
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in state.items()}, str(tmp_path / "cut.safetensors"))
    with pytest.raises(ValueError, match="UNet weights do not match"):
        load_model_service(str(tmp_path / "cut.safetensors"), config_dir=str(models.configs),
                           models_dir=str(models.root))


def test_missing_tokenizer_is_a_clear_error(models: SimpleNamespace, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from deforum.integrations.diffusers import tokenizer

    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", tokenizer.TOKENIZER_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tokenizer, "_package_bpe_files", list)
    target = tmp_path / "Stable-diffusion" / "tiny.safetensors"
    target.parent.mkdir()
    target.write_bytes((models.folder / "tiny.safetensors").read_bytes())
    with pytest.raises(TokenizerNotFound, match="vocab.json"):
        load_model_service(str(target))


def test_prediction_type_from_yaml_and_sdxl_keys(tmp_path: Path) -> None:
    sd2 = {loading.UNET_IN: torch.zeros(1, 4, 3, 3), loading.SD2_CLIP: torch.zeros(4)}
    assert loading.detect_kind(sd2, tmp_path / "a.safetensors").prediction is None
    (tmp_path / "a.yaml").write_text('model:\n  params:\n    parameterization: "v"\n')
    assert loading.detect_kind(sd2, tmp_path / "a.safetensors").prediction == "v_prediction"
    xl = {loading.UNET_IN: torch.zeros(1, 9, 3, 3), loading.SDXL_CLIP_G: torch.zeros(4), "v_pred": torch.zeros(1),
          "ztsnr": torch.zeros(1)}
    kind = loading.detect_kind(xl, tmp_path / "b.safetensors")
    assert (kind.family, kind.in_channels, kind.prediction, kind.zero_snr) == ("sdxl", 9, "v_prediction", True)


def test_v_prediction_probe_runs(models: SimpleNamespace) -> None:
    assert isinstance(loading.probe_v_prediction(models.pipe.unet), bool)


def _meta_models(layout: loading.Layout) -> tuple:
    import transformers
    from accelerate import init_empty_weights
    from diffusers import AutoencoderKL, UNet2DConditionModel

    root = loading.CONFIGS
    with init_empty_weights():
        unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(root, subfolder=layout.unet))
        vae = AutoencoderKL.from_config(AutoencoderKL.load_config(root, subfolder=layout.vae))
        encoders = [getattr(transformers, cls)(transformers.CLIPTextConfig.from_pretrained(root, subfolder=sub))
                    for cls, sub, _ in layout.encoders]
    return unet, vae, encoders


@pytest.mark.parametrize("family", ["sd1", "sd2", "sdxl"])
def test_shipped_configs_match_the_original_layouts(family: str) -> None:
    from diffusers.loaders import single_file_utils as sfu

    unet, vae, encoders = _meta_models(loading.LAYOUTS[family])
    pipe = SimpleNamespace(unet=unet, vae=vae, text_encoder=encoders[0],
                           text_encoder_2=encoders[1] if family == "sdxl" else None)
    state = export.pipeline_to_ldm(pipe, open_clip=family == "sd2")
    assert loading.detect_kind(state, Path(f"{family}.safetensors")).family == family
    for model, converted in ((unet, sfu.convert_ldm_unet_checkpoint(state, dict(unet.config))),
                             (vae, sfu.convert_ldm_vae_checkpoint(state, dict(vae.config)))):
        expected = model.state_dict()
        assert converted.keys() == expected.keys()
        assert all(converted[k].shape == v.shape for k, v in expected.items())
    assert sum(p.numel() for p in unet.parameters()) == {"sd1": 859520964, "sd2": 865910724,
                                                          "sdxl": 2567463684}[family]


@pytest.mark.slow
@pytest.mark.parametrize("inpainting", [False, True])
def test_sdxl_single_file_round_trip(tmp_path: Path, inpainting: bool) -> None:
    tokenizer = write_tiny_tokenizer(tmp_path / "Deforum" / "tokenizer")
    pipe = tiny_pipeline(tokenizer, sdxl=True, inpainting=inpainting)
    pipe.save_pretrained(tmp_path / "configs")
    export.save_single_file(pipe, tmp_path / "xl.safetensors")
    service = load_model_service(str(tmp_path / "xl.safetensors"), config_dir=str(tmp_path / "configs"))
    assert service.parts.sdxl and service.parts.inpainting == inpainting
    assert same_weights(service.parts.text_encoders[1], pipe.text_encoder_2)
    mask = np.zeros((64, 64), np.uint8)
    mask[16:48, 16:48] = 255
    init = image(service)
    out = image(service, init_image=init, denoising_strength=0.6, mask=mask)
    assert np.array_equal(init, image(DiffusersModelService.from_pipeline(pipe)))
    assert np.array_equal(out[:4], init[:4]) and not np.array_equal(out, init)
