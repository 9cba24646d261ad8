"""WebUI install hook: install Deforum's requirements that the WebUI environment lacks (torch is the WebUI's)."""

from __future__ import annotations

import re
from pathlib import Path

import launch  # provided by the WebUI when it runs install.py

REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"
PROVIDED_BY_WEBUI = {"torch", "torchvision"}


def requirement_lines(path: Path = REQUIREMENTS) -> list[str]:
    """Requirement specifiers from requirements.txt, without comments and without the WebUI's own torch."""
    lines = [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and re.split(r"[<>=!~ \[]", line, 1)[0] not in PROVIDED_BY_WEBUI]


for requirement in requirement_lines():
    package = re.split(r"[<>=!~ \[]", requirement, 1)[0]
    if not launch.is_installed(package):
        launch.run_pip(f'install "{requirement}"', f"Deforum requirement: {requirement}")
