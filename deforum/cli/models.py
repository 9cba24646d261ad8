"""The `models` command: what Deforum can download, what is already here, and fetching ahead of time."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from deforum.config.download import Progress

LIST_FORMAT = "{name:<26} {size:>9}  {state:<8} {uses}"


def tqdm_progress(label: str) -> Progress:
    """A tqdm bar (bytes) for one release-file download."""
    from tqdm import tqdm

    bar = tqdm(desc=label, unit="B", unit_scale=True, unit_divisor=1024, leave=True)

    def update(done: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.update(done - bar.n)
        if total is not None and done >= total:
            bar.close()

    return update


def add_download_flags(parser: argparse.ArgumentParser) -> None:
    """The global --offline and --allow-large-downloads flags."""
    parser.add_argument("--offline", action="store_true",
                        help="never download weights or URL inputs (as HF_HUB_OFFLINE=1); missing files are errors")
    parser.add_argument("--allow-large-downloads", action="store_true",
                        help="allow multi-gigabyte downloads (Wan 14B, Qwen) when a model is missing")


def apply_download_flags(args: argparse.Namespace) -> None:
    """Turn the global flags into the process-wide download switches, with tqdm progress bars."""
    from deforum.config.fetch import configure

    configure(offline=True if getattr(args, "offline", False) else None,
              allow_large=True if getattr(args, "allow_large_downloads", False) else None, progress=tqdm_progress)


def _size(megabytes: int) -> str:
    """'99 MB' or '29.6 GB'."""
    return f"{megabytes / 1000:.1f} GB" if megabytes >= 1000 else f"{megabytes} MB"


def cmd_list(args: argparse.Namespace) -> int:
    """Print every downloadable model, its size, whether it is here (and where), and what uses it."""
    from deforum.config.catalog import CATALOG
    from deforum.config.fetch import location

    print(LIST_FORMAT.format(name="NAME", size="SIZE", state="STATE", uses="USED BY / WHERE"))
    for item in CATALOG:
        found = location(item, args.models_dir)
        state = "present" if found else ("large" if item.large else "missing")
        print(LIST_FORMAT.format(name=item.name, size=_size(item.size_mb), state=state,
                                 uses=str(found) if found else item.uses))
    return 0


def cmd_download(args: argparse.Namespace) -> int:
    """Fetch the named models now (nothing is done for one already present)."""
    from deforum.config.catalog import entry
    from deforum.config.fetch import download, location, refusal

    items = [entry(name) for name in args.names]
    for item in items:
        found = location(item, args.models_dir)
        if found is not None:
            print(f"{item.name}: already at {found}")
            continue
        reason = refusal(item)
        if reason is not None:
            raise ValueError(f"{item.name}: {reason}")
        print(f"{item.name}: {download(item, args.models_dir)}")
    return 0


def add_models_command(sub: argparse._SubParsersAction) -> None:
    """Register `models list` and `models download NAME...`."""
    parser = sub.add_parser("models", help="list downloadable models, or download them ahead of time")
    actions = parser.add_subparsers(dest="models_action", required=True)
    commands: dict[str, tuple[str, Callable[[argparse.Namespace], int]]] = {
        "list": ("what can be downloaded, how big, and what is already here", cmd_list),
        "download": ("download models now (names from `deforum models list`)", cmd_download),
    }
    for name, (text, handler) in commands.items():
        action = actions.add_parser(name, help=text)
        action.add_argument("--models-dir", default=None,
                            help="models folder (default: $DEFORUM_MODELS_DIR, else ./models)")
        if name == "download":
            action.add_argument("names", nargs="+", metavar="NAME")
        action.set_defaults(handler=handler)
