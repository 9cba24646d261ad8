"""Tiny random-weight Wan pipelines and a tiny Qwen2 chat model, built from configs, for tests (no downloads)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

TINY_WORDS = ("<pad>", "</s>", "<unk>", "<|im_start|>", "<|im_end|>", "a", "cat", "dog", "bunny", "camera", "pans",
              "right", "left", "dollies", "forward", "zooms", "in", "slowly", "meadow", "neon", "city", ".", ",")
TEXT_DIM = 16
IMAGE_TOKENS = (32 // 4) ** 2 + 1
CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|> {{ m['role'] }} {{ m['content'] }} <|im_end|> {% endfor %}"
                 "{% if add_generation_prompt %}<|im_start|> assistant {% endif %}")


def tiny_tokenizer() -> Any:
    """A word-level fast tokenizer over TINY_WORDS (unknown words become <unk>)."""
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace
    from transformers import PreTrainedTokenizerFast

    model = Tokenizer(WordLevel({word: i for i, word in enumerate(TINY_WORDS)}, unk_token="<unk>"))
    model.pre_tokenizer = Whitespace()
    return PreTrainedTokenizerFast(tokenizer_object=model, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")


def tiny_text_encoder(seed: int = 0) -> Any:
    """A one-layer UMT5 encoder with 16 features."""
    import torch
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    config = UMT5Config(vocab_size=len(TINY_WORDS), d_model=TEXT_DIM, d_kv=4, d_ff=16, num_layers=1, num_heads=2,
                        relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1)
    return UMT5EncoderModel(config).eval()


def tiny_vae() -> Any:
    """Wan's 3D VAE (8× spatial, 4× temporal down-sampling, 16 latent channels) with 3 base channels."""
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True]).eval()


def _transformer(kind: str) -> Any:
    """A one-block Wan transformer: plain (t2v), with image channels and image features (i2v, flf2v), or VACE."""
    from diffusers import WanTransformer3DModel, WanVACETransformer3DModel

    common = {"patch_size": (1, 2, 2), "num_attention_heads": 2, "attention_head_dim": 8, "out_channels": 16,
              "text_dim": TEXT_DIM, "freq_dim": 16, "ffn_dim": 16, "cross_attn_norm": True,
              "qk_norm": "rms_norm_across_heads", "rope_max_seq_len": 32}
    if kind == "vace":
        return WanVACETransformer3DModel(in_channels=16, num_layers=2, vace_layers=[0], vace_in_channels=96,
                                         **common).eval()
    if kind in ("i2v", "flf2v"):
        positions = {"pos_embed_seq_len": 2 * IMAGE_TOKENS} if kind == "flf2v" else {}
        return WanTransformer3DModel(in_channels=36, num_layers=1, image_dim=8, **positions, **common).eval()
    return WanTransformer3DModel(in_channels=16, num_layers=1, **common).eval()


def _image_parts() -> dict[str, Any]:
    """A tiny CLIP vision encoder and its 32×32 processor (what Wan 2.1 I2V pipelines condition on)."""
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

    config = CLIPVisionConfig(hidden_size=8, projection_dim=8, num_hidden_layers=2, num_attention_heads=2,
                              image_size=32, intermediate_size=16, patch_size=4)
    return {"image_encoder": CLIPVisionModel(config).eval(),
            "image_processor": CLIPImageProcessor(crop_size=32, size=32)}


def tiny_wan_pipeline(kind: str = "t2v", *, seed: int = 0, text_encoder: Any = None, tokenizer: Any = None) -> Any:
    """A random-weight WanPipeline ('t2v'), WanImageToVideoPipeline ('i2v'; 'flf2v' with the first-last-frame
    model's image positions for two images) or WanVACEPipeline ('vace')."""
    import torch
    from diffusers import FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline, WanPipeline, WanVACEPipeline

    torch.manual_seed(seed)
    parts = {"tokenizer": tokenizer or tiny_tokenizer(), "text_encoder": text_encoder or tiny_text_encoder(seed),
             "vae": tiny_vae(), "transformer": _transformer(kind),
             "scheduler": FlowMatchEulerDiscreteScheduler(shift=5.0)}
    cls = {"t2v": WanPipeline, "i2v": WanImageToVideoPipeline, "flf2v": WanImageToVideoPipeline,
           "vace": WanVACEPipeline}[kind]
    pipe = cls(**parts, **(_image_parts() if kind in ("i2v", "flf2v") else {}))
    pipe.set_progress_bar_config(disable=True)
    return pipe


def write_tiny_wan_model(folder: Path, kind: str = "vace") -> Path:
    """Save a tiny Wan pipeline as a diffusers folder (model_index.json and component folders)."""
    tiny_wan_pipeline(kind).save_pretrained(str(folder))
    return folder


def write_tiny_qwen(folder: Path) -> Path:
    """Save a one-layer random Qwen2 chat model with a word-level tokenizer and a chat template."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(0)
    tokenizer = tiny_tokenizer()
    tokenizer.chat_template = CHAT_TEMPLATE
    config = Qwen2Config(vocab_size=len(TINY_WORDS), hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=256,
                         pad_token_id=0, eos_token_id=1, bos_token_id=3)
    Qwen2ForCausalLM(config).eval().save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder
