"""Qwen prompt enhancement from the tab: rewrite the Wan prompts, show the change as a diff, apply it on request."""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Mapping
from typing import Any

from deforum.ui.host import TabHost
from deforum.ui.values import settings_from_ui

__all__ = ["build_enhance_panel", "enhance_handler", "prompts_diff"]

TARGET = "wan_enhanced_prompts"
NEEDS_HOST = "Prompt enhancement needs the WebUI (or `python -m deforum wan enhance SETTINGS`)."


def prompts_diff(before: Mapping[str, str], after: Mapping[str, str]) -> str:
    """A unified diff of the prompts, one line per keyframe ("key: prompt"), for the user to read before applying."""
    old = [f"{key}: {text}" for key, text in before.items()]
    new = [f"{key}: {text}" for key, text in after.items()]
    return "\n".join(difflib.unified_diff(old, new, "prompts", "enhanced", lineterm="")) or "(no change)"


def enhance_handler(host: TabHost, keys: list[str]) -> Callable[..., tuple[str, str]]:
    """(tab values...) → (diff text, pending JSON): the host's enhancement of the prompts the Wan render would use."""

    def handler(*values: Any) -> tuple[str, str]:
        """Enhance, or say why not."""
        if host.enhance_prompts is None:
            return NEEDS_HOST, ""
        try:
            before, after = host.enhance_prompts(settings_from_ui(dict(zip(keys, values))))
        except (ValueError, OSError, RuntimeError) as err:
            return f"Prompt enhancement failed: {err}", ""
        return prompts_diff(before, after), json.dumps(dict(after), ensure_ascii=False, indent=2)

    return handler


def build_enhance_panel(gr: Any, host: TabHost, components: Mapping[str, Any], keys: list[str]) -> dict[str, Any]:
    """Enhance (shows the diff) and Apply (writes the pending JSON into wan_enhanced_prompts) buttons."""
    gr.Markdown("Rewrite the Wan prompts with a local Qwen2.5 instruct model (wan_qwen_model, wan_qwen_language). "
                "Nothing changes until you press Apply.")
    with gr.Row():
        enhance = gr.Button("Enhance prompts with Qwen", elem_id="deforum_enhance_prompts")
        apply = gr.Button("Apply to wan_enhanced_prompts", elem_id="deforum_apply_enhanced")
    diff = gr.Code(label="Change (diff)", language=None, interactive=False, elem_id="deforum_enhance_diff")
    pending = gr.Textbox(visible=False, elem_id="deforum_enhance_pending")
    inputs = [components[key] for key in keys]
    enhance.click(enhance_handler(host, keys), inputs=inputs, outputs=[diff, pending])
    if TARGET in components:
        apply.click(lambda text: text or gr.update(), inputs=[pending], outputs=[components[TARGET]])
    return {"enhance": enhance, "apply": apply, "diff": diff, "pending": pending}
