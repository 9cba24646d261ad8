"""Optional prompt enhancement with a local instruction-tuned Qwen2.5 model (transformers); never on by default.

Prompts go in, enhanced prompts come out as editable JSON for `wan_enhanced_prompts`; the render then uses them in
place of the prompt schedule. Weights are read from local folders or the Hugging Face cache; with
wan_qwen_auto_download and --allow-large-downloads a missing model is downloaded first.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from deforum.config.fetch import obtain
from deforum.config.weights import WeightsMissing, hf_hub_cache, models_roots
from deforum.models.settings import Settings
from deforum.prompt.schedule import NEG_MARKER, split_negative

log = logging.getLogger(__name__)

AUTO_SELECT = "Auto-Select"
QWEN_MODELS = {
    "Qwen2.5_3B": "Qwen/Qwen2.5-3B-Instruct",
    "Qwen2.5_7B": "Qwen/Qwen2.5-7B-Instruct",
    "Qwen2.5_14B": "Qwen/Qwen2.5-14B-Instruct",
}
VISION_MODELS = ("QwenVL2.5_7B", "QwenVL2.5_3B")
QWEN_SUBFOLDERS = (("Deforum", "wan"), ("wan",), ("Deforum", "LLM"), ("LLM",))
MAX_NEW_TOKENS = 160
INSTRUCTION = (
    "You write prompts for a text-to-video model. Rewrite the user's prompt as one vivid English paragraph of at "
    "most 80 words: keep every subject and style it names, add concrete detail about the scene, lighting, "
    "colours and how things move, and describe the camera only if the prompt mentions it. Reply with the prompt "
    "alone, without quotes or comments."
)

INSTRUCTION_ZH = (
    "你为文生视频模型撰写提示词。把用户的提示词改写成一段生动的中文描述，不超过80字：保留其中提到的所有主体和风格，"
    "补充场景、光线、色彩以及物体如何运动的具体细节；只有当提示词提到镜头时才描述镜头。只回复改写后的提示词，"
    "不要加引号或说明。"
)
INSTRUCTIONS = {"English": INSTRUCTION, "Chinese": INSTRUCTION_ZH}
LANGUAGE_ALIASES = {"en": "English", "english": "English", "zh": "Chinese", "chinese": "Chinese", "中文": "Chinese"}

Enhance = Callable[[str], str]


def answer_language(language: str) -> str:
    """'English' or 'Chinese' from wan_qwen_language (en/zh accepted); anything else is an error naming it."""
    name = LANGUAGE_ALIASES.get(str(language).strip().lower())
    if name is None:
        raise ValueError(f"Setting 'wan_qwen_language': {language!r} is not a language the enhancement answers in; "
                         "choose English or Chinese.")
    return name


def chat_messages(prompt: str, language: str = "English") -> list[dict[str, str]]:
    """The system instruction (in the answer's language) and the user's prompt."""
    return [{"role": "system", "content": INSTRUCTIONS[answer_language(language)]},
            {"role": "user", "content": prompt}]


class PromptModelMissing(WeightsMissing):
    """No local Qwen2.5 weights; the message names the folder, the expected files and where to get them."""


def qwen_folder_names(choice: str) -> tuple[str, ...]:
    """Folder names accepted for a choice: the setting's name and the Hugging Face repo's name."""
    return (choice, QWEN_MODELS[choice].split("/")[1])


def _usable(folder: Path) -> bool:
    """A transformers folder with a config and a tokenizer."""
    return (folder / "config.json").is_file() and any(
        (folder / name).is_file() for name in ("tokenizer.json", "tokenizer_config.json"))


def _cached(choice: str) -> Path | None:
    """The choice's snapshot in the Hugging Face cache (looked up offline), if it is there."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(QWEN_MODELS[choice], "config.json", cache_dir=str(hf_hub_cache()))
    return Path(found).parent if isinstance(found, str) else None


def _search(choice: str, roots: list[Path]) -> Path | None:
    """The first usable folder for one choice under the roots, then in the cache."""
    for root in roots:
        for name in qwen_folder_names(choice):
            if _usable(root / name):
                return root / name
    cached = _cached(choice)
    return cached if cached is not None and _usable(cached) else None


def locate_qwen(choice: str = AUTO_SELECT, *, path: str | os.PathLike[str] | None = None,
                models_dir: str | os.PathLike[str] | None = None, download: bool = False) -> Path:
    """The Qwen2.5 folder to use: `path`, else the choice (Auto-Select: the smallest found), downloaded if allowed."""
    if path:
        folder = Path(path).expanduser()
        if not _usable(folder):
            raise PromptModelMissing(f"{folder} is not a transformers model folder (config.json and tokenizer.json "
                                     "expected).")
        return folder
    if choice in VISION_MODELS:
        raise PromptModelMissing(f"{choice} is a vision-language model; prompt enhancement uses the text-only "
                                 f"Qwen2.5 models: {', '.join(QWEN_MODELS)}.")
    if choice != AUTO_SELECT and choice not in QWEN_MODELS:
        raise ValueError(f"Unknown Qwen model {choice!r}; choose {AUTO_SELECT} or one of {', '.join(QWEN_MODELS)}.")
    wanted = "Qwen2.5_3B" if choice == AUTO_SELECT else choice
    find = functools.partial(_find_qwen, choice, models_dir)
    return obtain(QWEN_MODELS[wanted], find, models_dir) if download else find()


def _find_qwen(choice: str, models_dir: str | os.PathLike[str] | None) -> Path:
    """The first usable folder for a choice (or Auto-Select) on disk, or PromptModelMissing."""
    roots = [root.joinpath(*sub) for root in models_roots(models_dir) for sub in QWEN_SUBFOLDERS]
    for candidate in (QWEN_MODELS if choice == AUTO_SELECT else (choice,)):
        found = _search(candidate, roots)
        if found is not None:
            return found
    wanted = "Qwen2.5_3B" if choice == AUTO_SELECT else choice
    searched = "\n".join(f"  {root}" for root in roots)
    raise PromptModelMissing(
        f"No local {wanted} weights for prompt enhancement.\nPut the folder "
        f"{qwen_folder_names(wanted)[1]} (config.json, tokenizer.json, *.safetensors) in {roots[0]}.\nGet it with: "
        f"hf download {QWEN_MODELS[wanted]} --local-dir {roots[0] / qwen_folder_names(wanted)[1]}\n"
        f"Searched:\n{searched}\n  Hugging Face cache {hf_hub_cache()}")


class PromptEnhancer:
    """A loaded instruction model that rewrites one prompt at a time (greedy decoding: same prompt, same answer)."""

    def __init__(self, model: Any, tokenizer: Any, *, max_new_tokens: int = MAX_NEW_TOKENS,
                 language: str = "English") -> None:
        """Wrap a causal LM and its tokenizer (with a chat template); answers come in `language`."""
        self.model, self.tokenizer, self.max_new_tokens = model, tokenizer, max_new_tokens
        self.language = answer_language(language)

    def __call__(self, prompt: str) -> str:
        """The enhanced prompt ('' when the model produced nothing)."""
        import torch

        text = self.tokenizer.apply_chat_template(chat_messages(prompt, self.language), tokenize=False,
                                                  add_generation_prompt=True)
        inputs = self.tokenizer(text, return_tensors="pt").to(self.model.device)
        with torch.inference_mode():
            output = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False,
                                         pad_token_id=self.tokenizer.pad_token_id)
        answer = self.tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
        return " ".join(answer.split()).strip().strip('"')


def load_enhancer(folder: str | os.PathLike[str], *, device: str | None = None,
                  language: str = "English") -> PromptEnhancer:
    """Load a Qwen2.5 instruct model from a local folder (bf16 on CUDA, fp32 on the CPU), answering in `language`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=dtype, local_files_only=True).to(device).eval()
    return PromptEnhancer(model, tokenizer, language=language)


def enhance_prompts(prompts: Mapping[str, str], enhance: Enhance) -> dict[str, str]:
    """Each keyframe's positive prompt rewritten (its `--neg` part kept); an empty answer keeps the original."""
    result: dict[str, str] = {}
    for key, prompt in prompts.items():
        positive, negative = split_negative(prompt)
        better = enhance(positive) if positive else ""
        if not better:
            log.warning("Prompt enhancement gave nothing for keyframe %s; the original prompt is kept.", key)
            better = positive
        result[str(key)] = f"{better} {NEG_MARKER} {negative}" if negative else better
    return result


def enhanced_prompts_json(prompts: Mapping[str, str]) -> str:
    """The enhanced prompts as the editable JSON text `wan_enhanced_prompts` holds."""
    return json.dumps(dict(prompts), ensure_ascii=False, indent=2)


def enhance_settings_prompts(settings: Settings, *, qwen: str | None = None,
                             models_dir: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The prompts Wan would use, rewritten by the Qwen model the settings choose (the CLI's and the tab's way)."""
    from deforum.integrations.wan.plan import prompt_source, wan_setting

    folder = locate_qwen(str(wan_setting(settings, "wan_qwen_model")), path=qwen, models_dir=models_dir,
                         download=bool(wan_setting(settings, "wan_qwen_auto_download")))
    _, prompts = prompt_source(settings)
    language = str(wan_setting(settings, "wan_qwen_language"))
    return enhance_prompts(prompts, load_enhancer(folder, language=language))
