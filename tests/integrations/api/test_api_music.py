"""A settings file with bpm, beat and audio features renders through the REST API; audio_path obeys path safety."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("librosa")

from tests.integrations.api.test_api_http import TINY, Server, frames  # noqa: E402
from tests.media.audio_signals import bursts, write_wav  # noqa: E402


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that reads local files."""
    running = Server(tmp_path_factory.mktemp("music") / "out", "--allow-local-files")
    yield running
    running.close()


def test_music_settings_render_through_the_api(local: Server, tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "bass.wav", bursts([(0.1, 0.3, 40.0, 200.0)], 1.0))
    settings = {**TINY, "max_frames": 6, "fps": 12, "bpm": 120, "audio_path": str(wav), "batch_name": "music",
                "zoom": "0: (1 + 0.1*bass)", "translation_x": "0: (4*beat_offset)",
                "prompts": {"0": "a drum `floor(beat)`"}}
    job_id = local.submit(settings)["job_ids"][0]
    status = local.wait(job_id, until=lambda s: s["status"] in ("SUCCEEDED", "FAILED"), seconds=240)
    assert status["status"] == "SUCCEEDED", status
    assert len(frames(status["outdir"], status["timestring"])) == 6


def test_audio_path_is_a_local_file_setting(local: Server, tmp_path: Path) -> None:
    missing = local.client.post("/deforum_api/batches", json={"deforum_settings": {
        **TINY, "audio_path": str(tmp_path / "missing.wav"), "zoom": "0: (1 + bass)"}})
    assert missing.status_code == 422 and "audio_path" in missing.text and "not found" in missing.text
