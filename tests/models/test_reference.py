"""docs/settings.md is the settings reference generated from the field specs, and stays in step with them."""

from __future__ import annotations

from deforum.models.reference import reference_markdown
from deforum.models.settings import FIELD_SPECS
from tests.conftest import ROOT

REGENERATE = ("python -c \"import pathlib, deforum.models.reference as r; "
              "pathlib.Path('docs/settings.md').write_text(r.reference_markdown(), encoding='utf-8')\"")


def test_docs_settings_md_is_the_generated_reference() -> None:
    assert (ROOT / "docs" / "settings.md").read_text("utf-8") == reference_markdown(), f"regenerate: {REGENERATE}"


def test_the_reference_lists_every_setting_with_its_help_and_default() -> None:
    text = reference_markdown()
    keys = {k for k in FIELD_SPECS if not k.startswith("cn_")} | {k.replace("cn_1_", "cn_N_") for k in FIELD_SPECS
                                                                  if k.startswith("cn_1_")}
    assert all(f"| `{key}` |" in text for key in keys)
    assert "| `W` | Width | frame width in pixels; a typed value is rounded down to a multiple of 8 |" in text
    assert "| `fill` | Mask fill |" in text and "| `0` |" in text
    assert text.count("\n## ") == 8 and "cn_2_" not in text
