"""Driving a real AUTOMATIC1111 WebUI with the extension linked in (shared/webui-host.md), for the host checks.

WEBUI_DIR: a WebUI v1.10.1 prepared as webui-host.md says (tiny checkpoint, install.py run once);
WEBUI_PYTHON: its interpreter (default $WEBUI_DIR/venv/bin/python). The project is linked as extensions/deforum.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from deforum.media.video import count_video_frames

ROOT = Path(__file__).resolve().parents[3]
WEBUI_DIR = Path(os.environ["WEBUI_DIR"]) if os.environ.get("WEBUI_DIR") else None
FLAGS = ["--skip-prepare-environment", "--skip-torch-cuda-test", "--no-download-sd-model", "--use-cpu", "all",
         "--precision", "full", "--no-half", "--no-hashing", "--server-name", "127.0.0.1"]
START_SECONDS = 240
RUN_SECONDS = 300
TINY = {"W": 64, "H": 64, "max_frames": 3, "animation_mode": "2D", "diffusion_cadence": 1, "steps": 4, "seed": 1,
        "sampler": "Euler a", "prompts": {"0": "a lighthouse", "2": "a boat"}}


def python() -> str:
    """The WebUI's interpreter."""
    return os.environ.get("WEBUI_PYTHON") or str(WEBUI_DIR / "venv" / "bin" / "python")


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def link_extension() -> None:
    """extensions/deforum -> this project (left as is when it already points here)."""
    link = WEBUI_DIR / "extensions" / "deforum"
    if link.is_symlink() or link.exists():
        assert link.resolve() == ROOT.resolve(), f"{link} is not this project"
        return
    link.symlink_to(ROOT, target_is_directory=True)


def launch(*args: str, log: Path) -> subprocess.Popen:
    """Start the WebUI with the extension."""
    link_extension()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([python(), "launch.py", *FLAGS, *args], cwd=WEBUI_DIR, env=env,
                            stdout=log.open("w"), stderr=subprocess.STDOUT)


def run_folders(batch: str) -> list[Path]:
    """The output folders of runs whose batch_name starts with batch."""
    return sorted((WEBUI_DIR / "outputs" / "img2img-images").glob(f"{batch}*"))


def check_run(outdir: Path, frames: int = 3) -> None:
    """frames PNGs of 64×64 and an MP4 holding them."""
    from PIL import Image

    pngs = sorted(p for p in outdir.glob("*_[0-9]*.png") if p.stem.rsplit("_", 1)[-1].isdigit())
    assert len(pngs) == frames and {Image.open(p).size for p in pngs} == {(64, 64)}
    videos = list(outdir.glob("*.mp4"))
    assert len(videos) == 1 and count_video_frames(str(videos[0])) == frames
    assert list(outdir.glob("*_settings.txt"))


class WebUI:
    """A running WebUI and an HTTP client to it."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.log = log
        self.proc = launch("--api", "--deforum-api", "--port", str(self.port), log=log)
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=RUN_SECONDS)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, log.read_text()[-4000:]
            try:
                if self.client.get("/sdapi/v1/options").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise AssertionError("the WebUI did not start: " + log.read_text()[-4000:])

    def close(self) -> None:
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def generate_call(config: dict[str, Any], values: dict[str, Any]) -> tuple[int, list[Any]]:
    """The Generate event's fn_index and its input data: each component's value, `values` by setting key."""
    index, dependency = next((i, d) for i, d in enumerate(config["dependencies"])
                             if str(d.get("js") or "").startswith("submit_deforum"))
    components = {c["id"]: c for c in config["components"]}
    data = []
    for component_id in dependency["inputs"]:
        props = components[component_id]["props"]
        key = str(props.get("elem_id") or "").removeprefix("deforum_")
        data.append(values.get(key, props.get("value")))
    data[0] = "task(realhost)"
    return index, data
