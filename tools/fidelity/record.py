"""Record the original Deforum's frames in a real A1111 WebUI, as test data for tests/fidelity.

usage: python tools/fidelity/record.py --webui DIR [--webui-python PY] [--original SOURCE] [--out DIR]
                                       [--port N] [--only NAME ...]

DIR is a WebUI v1.10.1 built with the host kit (docs/fidelity.md: public snapshots, tiny random checkpoint; use a
copy, `cp -al` is enough: this script changes its extensions/). SOURCE is the original extension's git repository
(URL or local clone/mirror); it is cloned at run time at ORIGINAL_COMMIT into a temporary folder, given the
one-line ControlNetKeys fix and mounted as extensions/deforum-original; it is never stored in this project. The
recorder extension (tools/fidelity/recorder) is copied beside it. Each scenario (tools/fidelity/scenarios.py) is
posted to the original's /deforum_api/batches with the .srt on and every label selected; per frame the image
handed to img2img, the image returned and the .srt cue are written under OUT/<scenario>/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parents[1])]

from scenarios import SCENARIOS, SRT_OPTIONS, scenario_settings  # noqa: E402

from deforum.media.srt import SRT_PARAM_CHOICES  # noqa: E402

ORIGINAL_URL = "https://github.com/deforum-art/sd-webui-deforum.git"
ORIGINAL_COMMIT = "32242685"
CONTROLNET_FIX = ("getattr(controlnet_args, input_key), input_key)",
                  'getattr(controlnet_args, input_key, "0:(1)"), input_key)')
FLAGS = ["--skip-prepare-environment", "--skip-torch-cuda-test", "--no-download-sd-model", "--use-cpu", "all",
         "--precision", "full", "--no-half", "--no-hashing", "--server-name", "127.0.0.1", "--api",
         "--deforum-api", "--nowebui"]
START_SECONDS, JOB_SECONDS = 300, 900


def fetch_original(source: str, dest: Path) -> Path:
    """Clone the original at ORIGINAL_COMMIT into dest and apply the ControlNetKeys getattr fix."""
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", source, str(dest)], check=True)
    subprocess.run(["git", "-C", str(dest), "checkout", "--quiet", ORIGINAL_COMMIT], check=True)
    keys = dest / "scripts" / "deforum_helpers" / "animation_key_frames.py"
    text = keys.read_text(encoding="utf-8")
    if CONTROLNET_FIX[0] not in text:
        raise SystemExit(f"{keys}: the ControlNetKeys line to fix was not found")
    keys.write_text(text.replace(*CONTROLNET_FIX), encoding="utf-8")
    shutil.rmtree(dest / ".git")
    return dest


def _unmount(webui: Path) -> Path:
    """Remove any Deforum (ours, the original) and the recorder from extensions/; the extensions folder."""
    extensions = webui / "extensions"
    for name in ("deforum", "deforum-original", "fidelity-recorder"):
        target = extensions / name
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.exists():
            shutil.rmtree(target)
    return extensions


def mount(webui: Path, original: Path) -> None:
    """extensions/ holds only the original (as deforum-original) and the recorder."""
    extensions = _unmount(webui)
    shutil.copytree(original, extensions / "deforum-original")
    shutil.copytree(HERE / "recorder", extensions / "fidelity-recorder")


def mount_ours(webui: Path) -> None:
    """extensions/ holds only this project, linked as extensions/deforum."""
    (_unmount(webui) / "deforum").symlink_to(HERE.parents[1], target_is_directory=True)


class Host:
    """The WebUI started with the original and the recorder; one scenario at a time."""

    def __init__(self, webui: Path, python: str, port: int, record_dir: Path | None, log: Path) -> None:
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        if record_dir is not None:
            env["FIDELITY_RECORD_DIR"] = str(record_dir)
        self.proc = subprocess.Popen([python, "launch.py", *FLAGS, "--port", str(port)], cwd=webui, env=env,
                                     stdout=log.open("w"), stderr=subprocess.STDOUT)
        self.log = log
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("the WebUI stopped:\n" + log.read_text()[-4000:])
            try:
                if self.client.get("/deforum_api/jobs").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise SystemExit("the WebUI did not start:\n" + log.read_text()[-4000:])

    def run(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Post one job and wait for it; the final job status."""
        options = {**SRT_OPTIONS, "deforum_save_gen_info_as_srt_params": list(SRT_PARAM_CHOICES)}
        answer = self.client.post("/deforum_api/batches",
                                  json={"deforum_settings": [settings], "options_overrides": options})
        answer.raise_for_status()
        job = answer.json()["job_ids"][0]
        deadline = time.monotonic() + JOB_SECONDS
        while time.monotonic() < deadline:
            status = self.client.get(f"/deforum_api/jobs/{job}").json()
            if status["status"] != "ACCEPTED":
                return status
            time.sleep(1)
        raise SystemExit(f"job {job} did not finish:\n" + self.log.read_text()[-4000:])

    def close(self) -> None:
        self.client.close()
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def srt_cues(path: Path) -> list[str]:
    """The text line of every cue, in order."""
    blocks = [b.splitlines() for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]
    return ["\n".join(block[2:]) for block in blocks]


def store(name: str, settings: dict[str, Any], status: dict[str, Any], record_dir: Path, out: Path) -> None:
    """Move one scenario's recording into out/name: settings.json, calls.json, cues.json and the PNGs."""
    if status["status"] != "SUCCEEDED":
        raise SystemExit(f"{name}: the original's job ended {status['status']}: {status.get('message')}")
    target = out / name
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    calls = [json.loads(line) for line in (record_dir / "calls.jsonl").read_text(encoding="utf-8").splitlines()]
    for png in record_dir.glob("*.png"):
        shutil.move(str(png), target / png.name)
    (record_dir / "calls.jsonl").unlink()
    outdir = Path(status["outdir"])
    if not any(call["frame"] == 0 for call in calls):  # a motion preview's frame 0 is the default image
        shutil.copy(outdir / f"{status['timestring']}_{0:09}.png", target / "00000_0_out.png")
        calls.insert(0, {"frame": 0, "stem": "00000_0", "kind": "saved_frame", "has_init": False})
    cues = srt_cues(outdir / f"{status['timestring']}.srt")
    (target / "settings.json").write_text(json.dumps(settings, indent=2, ensure_ascii=False) + "\n", "utf-8")
    (target / "calls.json").write_text(json.dumps(calls, indent=1, ensure_ascii=False) + "\n", "utf-8")
    (target / "cues.json").write_text(json.dumps(cues, indent=1, ensure_ascii=False) + "\n", "utf-8")
    print(f"{name}: {len(calls)} calls, {len(cues)} cues -> {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--webui", type=Path, default=os.environ.get("WEBUI_DIR"),
                        required="WEBUI_DIR" not in os.environ)
    parser.add_argument("--webui-python", default=os.environ.get("WEBUI_PYTHON"))
    parser.add_argument("--original", default=ORIGINAL_URL)
    parser.add_argument("--out", type=Path, default=HERE.parents[1] / "tests" / "fidelity" / "data")
    parser.add_argument("--port", type=int, default=7871)
    parser.add_argument("--only", nargs="*", default=list(SCENARIOS))
    args = parser.parse_args()
    python = args.webui_python or str(args.webui / "venv" / "bin" / "python")
    with tempfile.TemporaryDirectory(prefix="fidelity-") as scratch:
        work = Path(scratch)
        mount(args.webui, fetch_original(args.original, work / "original"))
        record_dir = work / "record"
        host = Host(args.webui, python, args.port, record_dir, work.parent / "fidelity-webui.log")
        try:
            for name in args.only:
                settings = scenario_settings(name)
                store(name, settings, host.run(settings), record_dir, args.out)
        finally:
            host.close()


if __name__ == "__main__":
    main()
