"""bench/gpu_check.py without a GPU: arguments, the no-CUDA exit, the timing on tiny models, the WebUI comparison."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench import gpu_check
from bench.gpu_check_webui import compare_with_webui, difference

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


def test_paths_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEFORUM_GPU_SD15", "/w/sd15.safetensors")
    monkeypatch.setenv("DEFORUM_GPU_WEBUI_URL", "http://127.0.0.1:7860")
    monkeypatch.delenv("DEFORUM_GPU_SDXL", raising=False)
    args = gpu_check.parse_args([])
    assert (args.sd15, args.sdxl, args.webui_url) == ("/w/sd15.safetensors", None, "http://127.0.0.1:7860")
    assert (args.frames, args.sd15_size, args.sdxl_size, args.device) == (30, 512, 1024, "cuda")
    assert gpu_check.parse_args(["--sdxl", "x", "--frames", "5"]).sdxl == "x"


def test_bad_counts_and_missing_checkpoints_are_named(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        gpu_check.parse_args(["--frames", "0"])
    assert exited.value.code == 2 and "--frames" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="DEFORUM_GPU_SD15"):
        gpu_check.cases_from(gpu_check.parse_args(["--sd15", "", "--sdxl", ""]))
    missing = str(tmp_path / "nope.safetensors")
    with pytest.raises(SystemExit, match="nope.safetensors"):
        gpu_check.cases_from(gpu_check.parse_args(["--sd15", missing]))


def test_without_cuda_it_says_why_and_exits_0(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu_check.main(["--sd15", "/w/sd15.safetensors"]) == 0
    assert "skipped: CUDA is not available" in capsys.readouterr().out


def test_difference_of_images() -> None:
    a = np.zeros((4, 4, 3), np.uint8)
    b = np.full((4, 4, 3), 10, np.uint8)
    assert difference(a, a) == {"mean_abs": 0.0, "psnr_db": float("inf")}
    assert difference(a, b)["mean_abs"] == 10.0
    assert difference(a, b)["psnr_db"] == pytest.approx(10 * np.log10(255.0**2 / 100))


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], Path]:
    """The self-test on the CPU: tiny SD and SDXL, three frames each, results as JSON."""
    out = tmp_path_factory.mktemp("gpu-check")
    assert gpu_check.main(["--tiny", "--device", "cpu", "--frames", "3", "--steps", "2", "--outdir", str(out / "o"),
                           "--json", str(out / "r.json")]) == 0
    return json.loads((out / "r.json").read_text()), out / "o"


@pytest.mark.slow
def test_tiny_self_test_times_every_frame(tiny_run: tuple[list[dict], Path]) -> None:
    results, _ = tiny_run
    assert [r["label"] for r in results] == ["tiny SD", "tiny SDXL"]
    for result in results:
        assert result["frames"] == 3 and result["s_per_frame"] > 0
        assert 0.0 < result["outside_loop_share"] < 1.0 and 0.0 < result["vae_share"] < result["outside_loop_share"]
        assert result["rest_share"] == pytest.approx(result["outside_loop_share"] - result["vae_share"], abs=0.3)
        assert len(list(Path(result["outdir"]).glob(f"{result['timestring']}_[0-9]*.png"))) == 3


class StubWebUI(BaseHTTPRequestHandler):
    """txt2img answers a given image; the Deforum API answers a finished job in a given folder."""

    image: bytes = b""
    run: tuple[str, str] = ("", "")

    def _answer(self, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/sdapi/v1/txt2img":
            self._answer({"images": [base64.b64encode(self.image).decode()]})
        else:
            self._answer({"job_ids": ["batch(1)-0"]})

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer({"status": "SUCCEEDED", "outdir": self.run[0], "timestring": self.run[1]})

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def stub_webui() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubWebUI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_webui_comparison_reads_the_webuis_frames(tiny_run: tuple[list[dict], Path], stub_webui: str) -> None:
    results, _ = tiny_run
    ours = Path(results[0]["outdir"])
    timestring = results[0]["timestring"]
    shifted = np.asarray(Image.open(ours / f"{timestring}_000000000.png").convert("RGB")).astype(int) + 3
    buffer = io.BytesIO()
    Image.fromarray(np.clip(shifted, 0, 255).astype(np.uint8)).save(buffer, format="PNG")
    StubWebUI.image, StubWebUI.run = buffer.getvalue(), (str(ours), timestring)
    case = gpu_check.Case("tiny SD", "/w/tiny-sd", 64)
    args = gpu_check.parse_args(["--frames", "3", "--steps", "2"])
    result = gpu_check.CaseResult("tiny SD", 64, [], [], [], str(ours), timestring)
    found = compare_with_webui(stub_webui, case, gpu_check.check_settings(case, args), result)
    assert 0 < found["txt2img_numbers"]["mean_abs"] <= 3.0
    assert found["run_numbers"]["frames_compared"] == 3 and found["run_numbers"]["max"] == 0.0
