"""Hard-link torch and its CUDA wheels from one venv into another, so the test venvs share one copy on disk.

`make test` builds three venvs that all pin the same torch/torchvision; each copy is ~5 GB and a minute of
unpacking. Linking the files listed in each distribution's RECORD makes pip see the same versions as installed
in the target venv and skip them. Nothing is written when the target already has a distribution of that name.

Usage: python tools/share_torch.py SOURCE_VENV TARGET_VENV
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import sys
from pathlib import Path

SHARED_DISTRIBUTIONS = re.compile(r"^(torch|torchvision|triton|nvidia_[a-z0-9_]+|cuda_[a-z0-9_]+)-[^-]+\.dist-info$")


def site_packages(venv: Path) -> Path:
    """The venv's purelib folder (lib/pythonX.Y/site-packages)."""
    found = sorted(venv.glob("lib/python3*/site-packages"))
    if not found:
        raise SystemExit(f"share_torch: no site-packages under {venv}; create the venv first")
    return found[0]


def record_paths(dist_info: Path) -> list[str]:
    """Relative paths a distribution installed inside site-packages (scripts outside it are left out)."""
    with open(dist_info / "RECORD", newline="", encoding="utf-8") as handle:
        paths = [row[0] for row in csv.reader(handle) if row]
    return [path for path in paths if not path.startswith("..")]


def link_distribution(source: Path, target: Path, dist_info: Path) -> int:
    """Hard-link (or copy, across file systems) one distribution's files into target; returns the file count."""
    count = 0
    for relative in record_paths(dist_info):
        origin = source / relative
        if not origin.is_file():
            continue
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        if not destination.exists():
            try:
                os.link(origin, destination)
            except OSError:
                shutil.copy2(origin, destination)
            count += 1
    return count


def installed_names(site: Path) -> set[str]:
    """Distribution names (lower case) that have a dist-info folder in site."""
    return {entry.name.split("-")[0].lower() for entry in site.glob("*.dist-info")}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        raise SystemExit(__doc__)
    source, target = (site_packages(Path(arg)) for arg in argv)
    present = installed_names(target)
    linked = 0
    for dist_info in sorted(source.iterdir()):
        if SHARED_DISTRIBUTIONS.match(dist_info.name) and dist_info.name.split("-")[0].lower() not in present:
            linked += link_distribution(source, target, dist_info)
    print(f"share_torch: {linked} files linked from {source} into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
