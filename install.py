"""WebUI install hook: pip-install Deforum's requirements the WebUI lacks, never replacing the WebUI's own packages."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import re
from pathlib import Path

import launch  # provided by the WebUI when it runs install.py

REQUIREMENTS = Path(__file__).resolve().parent / "requirements.txt"
# Optional extras (music-driven schedules and schedule plots): installed too, but a failure only disables them.
OPTIONAL_REQUIREMENTS = (Path(__file__).resolve().parent / "requirements-audio.txt",)
# The WebUI's own versions are kept as they are (pinned while installing ours so pip cannot replace them).
WEBUI_OWNED = ("torch", "torchvision", "transformers", "numpy", "pillow", "accelerate")
# Needed only by the standalone renderer (`python -m deforum render --model`): the WebUI renders with its own model.
STANDALONE_ONLY = ("diffusers",)
IMPORT_NAMES = {"opencv-python-headless": "cv2", "pillow": "PIL", "imageio-ffmpeg": "imageio_ffmpeg"}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def requirement_lines(path: Path = REQUIREMENTS) -> list[str]:
    """Requirement specifiers from requirements.txt, without comments and blank lines."""
    lines = [line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line]


def package_name(requirement: str) -> str:
    """The distribution name of a requirement specifier, lower case."""
    match = NAME.match(requirement)
    return match.group(0).lower() if match else requirement.lower()


def is_importable(package: str) -> bool:
    """Whether the package's module imports (opencv-python and -headless both provide cv2)."""
    module = IMPORT_NAMES.get(package, package.replace("-", "_"))
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(requirements: list[str]) -> list[str]:
    """Our requirements whose module is absent, leaving out the WebUI's own packages and standalone-only ones."""
    skip = (*WEBUI_OWNED, *STANDALONE_ONLY)
    return [r for r in requirements if package_name(r) not in skip and not is_importable(package_name(r))]


def webui_pins() -> str:
    """`"name==version"` for each WebUI-owned package that is installed, to keep them unchanged."""
    pins = []
    for name in WEBUI_OWNED:
        try:
            pins.append(f'"{name}=={importlib.metadata.version(name)}"')
        except importlib.metadata.PackageNotFoundError:
            continue
    return " ".join(pins)


def install(requirement: str, pins: str) -> None:
    """Install one requirement at our pinned version, else at any version that fits the WebUI's packages."""
    try:
        launch.run_pip(f'install "{requirement}" {pins}', f"Deforum requirement: {requirement}")
    except RuntimeError:
        name = package_name(requirement)
        launch.run_pip(f'install "{name}" {pins}', f"Deforum requirement: {name}")


def install_optional(requirement: str, pins: str) -> bool:
    """Install one optional requirement; on failure log what stays unavailable and go on. True when installed."""
    try:
        install(requirement, pins)
    except RuntimeError as exc:
        logging.getLogger("deforum.install").warning(
            "Deforum: optional %s could not be installed (%s); audio-driven schedules and plots are unavailable",
            requirement, exc)
        return False
    return True


def main() -> None:
    """Install what is missing: the requirements, then the optional extras."""
    pins = webui_pins()
    for requirement in missing(requirement_lines()):
        install(requirement, pins)
    for path in OPTIONAL_REQUIREMENTS:
        for requirement in missing(requirement_lines(path)):
            install_optional(requirement, pins)


if __name__ == "__main__":
    main()
