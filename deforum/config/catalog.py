"""What Deforum can download: each model's name, source (a release file or a Hugging Face repo), size and hash.

Release URLs and blake2b digests are the ones the original extension used; RAFT's and MiDaS's sha256 prefixes are
the ones in their torch-hub file names. Hub repos land in the Hugging Face cache, release files in
``<models>/<folder>/``.
"""

from __future__ import annotations

from dataclasses import dataclass

from deforum.config.download import Checksum


@dataclass(frozen=True)
class CatalogEntry:
    """One downloadable model: a release ``url`` saved as ``folder/filename``, or a hub ``repo`` (then url is '')."""

    name: str
    label: str
    size_mb: int
    uses: str
    url: str = ""
    filename: str = ""
    folder: str = "Deforum"
    checksum: Checksum | None = None
    repo: str = ""
    patterns: tuple[str, ...] = ()
    large: bool = False

    @property
    def is_hub(self) -> bool:
        """Whether the model comes from a Hugging Face repo (else from a release file)."""
        return bool(self.repo)


def _blake(digest: str) -> Checksum:
    """The original extension's blake2b digest."""
    return Checksum("blake2b", digest)


def _esrgan(name: str, filename: str, release: str, size_mb: int) -> CatalogEntry:
    """A Real-ESRGAN release file (xinntao/Real-ESRGAN publishes no digest)."""
    return CatalogEntry(name, f"Real-ESRGAN {filename}", size_mb, "r_upscale_video",
                        url=f"https://github.com/xinntao/Real-ESRGAN/releases/download/{release}/{filename}",
                        filename=filename)


def _wan(name: str, repo: str, size_mb: int, large: bool) -> CatalogEntry:
    """A Wan 2.1 diffusers repo."""
    return CatalogEntry(name, f"Wan {repo.split('/')[1]}", size_mb, "Wan clips", repo=repo, large=large)


TOKENIZER_FILES = ("vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")
CATALOG: tuple[CatalogEntry, ...] = (
    CatalogEntry("midas-3-hybrid", "MiDaS 3 (DPT-Large)", 1345, "depth_algorithm Midas-3-Hybrid",
                 url="https://github.com/intel-isl/DPT/releases/download/1_0/dpt_large-midas-2f21e586.pt",
                 filename="dpt_large-midas-2f21e586.pt",
                 checksum=_blake("fcc4829e65d00eeed0a38e9001770676535d2e95c8a16965223aba094936e1316d569563552a852d"
                                 "471f310f83f597e8a238987a26a950d667815e08adaebc06")),
    CatalogEntry("depth-anything-v2-small", "Depth-Anything-V2 Small", 99, "depth_algorithm Depth-Anything-V2-Small",
                 repo="depth-anything/Depth-Anything-V2-Small-hf"),
    CatalogEntry("depth-anything-v2-base", "Depth-Anything-V2 Base", 390, "depth_algorithm Depth-Anything-V2-Base",
                 repo="depth-anything/Depth-Anything-V2-Base-hf"),
    CatalogEntry("depth-anything-v2-large", "Depth-Anything-V2 Large", 1340,
                 "depth_algorithm Depth-Anything-V2-Large", repo="depth-anything/Depth-Anything-V2-Large-hf"),
    CatalogEntry("raft", "RAFT-large (torchvision)", 21, "optical_flow_cadence / hybrid flow RAFT",
                 url="https://download.pytorch.org/models/raft_large_C_T_SKHT_V2-ff5fadd5.pth",
                 filename="raft_large_C_T_SKHT_V2-ff5fadd5.pth", checksum=Checksum("sha256", "ff5fadd5")),
    CatalogEntry("rife", "RIFE v4.6", 21, "frame_interpolation_engine RIFE v4.6",
                 url="https://github.com/hithereai/Practical-RIFE/releases/download/rife46/RIFE46.pkl",
                 filename="RIFE46.pkl",
                 checksum=_blake("af6f0b4bed96dea2c9f0624b449216c7adfaf7f0b722fba0c8f5c6e20b2ec39559cf33f3d238d53b"
                                 "160c22f00c6eaa47dc54a6e4f8aa4f59a6e4a9e90e1a808a")),
    CatalogEntry("film", "FILM (film_net fp16)", 69, "frame_interpolation_engine FILM",
                 url="https://github.com/hithereai/frame-interpolation-pytorch/releases/download/film_net_fp16.pt/"
                     "film_net_fp16.pt", filename="film_net_fp16.pt", folder="Deforum/film_interpolation",
                 checksum=_blake("0a823815b111488ac2b7dd7fe6acdd25d35a22b703e8253587764cf1ee3f8f93676d24154d9536d2"
                                 "ce5bc3b2f102fb36dfe0ca230dfbe289d5cd7bde5a34ec12")),
    _esrgan("realesr-animevideov3", "realesr-animevideov3.pth", "v0.2.5.0", 3),
    _esrgan("realesrgan-x4plus", "RealESRGAN_x4plus.pth", "v0.1.0", 64),
    _esrgan("realesrgan-x4plus-anime", "RealESRGAN_x4plus_anime_6B.pth", "v0.2.2.4", 18),
    CatalogEntry("rvm", "Robust Video Matting (ResNet-50)", 103, "hybrid_generate_human_masks",
                 url="https://github.com/PeterL1n/RobustVideoMatting/releases/download/v1.0.0/rvm_resnet50.pth",
                 filename="rvm_resnet50.pth"),
    CatalogEntry("clipseg", "CLIPSeg rd64-refined", 603, "<words> in mask schedules",
                 repo="CIDAS/clipseg-rd64-refined"),
    CatalogEntry("clip-tokenizer", "CLIP tokenizer (ViT-L/14)", 4, "standalone diffusion prompts",
                 repo="openai/clip-vit-large-patch14", patterns=TOKENIZER_FILES),
    _wan("wan-1.3b-vace", "Wan-AI/Wan2.1-VACE-1.3B-diffusers", 30000, False),
    _wan("wan-1.3b-t2v", "Wan-AI/Wan2.1-T2V-1.3B-Diffusers", 29000, False),
    _wan("wan-14b-vace", "Wan-AI/Wan2.1-VACE-14B-diffusers", 80000, True),
    _wan("wan-14b-t2v", "Wan-AI/Wan2.1-T2V-14B-Diffusers", 78000, True),
    _wan("wan-14b-i2v-720p", "Wan-AI/Wan2.1-I2V-14B-720P-Diffusers", 82000, True),
    _wan("wan-14b-i2v-480p", "Wan-AI/Wan2.1-I2V-14B-480P-Diffusers", 82000, True),
    _wan("wan-14b-flf2v-720p", "Wan-AI/Wan2.1-FLF2V-14B-720P-diffusers", 82000, True),
    CatalogEntry("qwen2.5-3b", "Qwen2.5 3B Instruct", 6200, "wan_enhance_prompts", repo="Qwen/Qwen2.5-3B-Instruct",
                 large=True),
    CatalogEntry("qwen2.5-7b", "Qwen2.5 7B Instruct", 15200, "wan_enhance_prompts", repo="Qwen/Qwen2.5-7B-Instruct",
                 large=True),
    CatalogEntry("qwen2.5-14b", "Qwen2.5 14B Instruct", 29600, "wan_enhance_prompts",
                 repo="Qwen/Qwen2.5-14B-Instruct", large=True),
)
BY_NAME = {entry.name: entry for entry in CATALOG}
BY_REPO = {entry.repo: entry for entry in CATALOG if entry.repo}


def entry(name: str) -> CatalogEntry:
    """The catalog entry called ``name`` (or holding the hub repo ``name``); ValueError listing the names."""
    found = BY_NAME.get(name.strip().lower()) or BY_REPO.get(name.strip())
    if found is None:
        raise ValueError(f"Unknown model {name!r}; `deforum models list` shows the names: {', '.join(BY_NAME)}.")
    return found
