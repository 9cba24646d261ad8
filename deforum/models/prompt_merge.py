"""The original's merge of shared positive/negative prompts into each keyframe prompt, and its inverse."""

from __future__ import annotations

from collections.abc import Mapping

NEG_MARKER = "--neg"


def clean_negative(negative: str) -> str:
    """The original strips a stray `--neg` from the shared negative prompt before merging."""
    return negative.replace(NEG_MARKER, "")


def merge_shared_prompt(prompt: str, positive: str, negative: str) -> str:
    """One keyframe prompt merged exactly as the original did: `{pos} {prompt} [--neg] {neg}`."""
    marker = "" if NEG_MARKER in prompt else NEG_MARKER
    return f"{positive} {prompt} {marker} {clean_negative(negative)}"


def merge_shared_prompts(prompts: Mapping[str, str], positive: str, negative: str) -> dict[str, str]:
    """Every keyframe prompt merged with the shared positive and negative prompts."""
    return {key: merge_shared_prompt(value, positive, negative) for key, value in prompts.items()}


def unmerge_shared_prompt(merged: str, positive: str, negative: str) -> str | None:
    """Recover the keyframe prompt from a merged one, or None when it was not merged from these parts."""
    head, tail = f"{positive} ", f" {clean_negative(negative)}"
    if not (merged.startswith(head) and merged.endswith(tail)) or len(merged) < len(head) + len(tail):
        return None
    middle = merged[len(head):len(merged) - len(tail)]
    for candidate in (middle[: -len(" " + NEG_MARKER)], middle[:-1]):
        if merge_shared_prompt(candidate, positive, negative) == merged:
            return candidate
    return None


def unmerge_shared_prompts(prompts: Mapping[str, str], positive: str, negative: str) -> dict[str, str] | None:
    """All keyframe prompts un-merged, or None when any of them does not un-merge exactly."""
    result = {}
    for key, value in prompts.items():
        original = unmerge_shared_prompt(value, positive, negative) if isinstance(value, str) else None
        if original is None:
            return None
        result[key] = original
    return result
