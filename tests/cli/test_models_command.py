"""`deforum models list|download` and the global --offline flag, against the loopback release host."""

from __future__ import annotations

import pytest

from deforum.cli.main import main
from tests.config.test_fetch import ESRGAN_PATH, hosts, tiny_esrgan_bytes  # noqa: F401


def test_list_shows_sizes_and_what_is_present(hosts, tmp_path, capsys):  # noqa: F811
    target = tmp_path / "models" / "Deforum" / "film_interpolation" / "film_net_fp16.pt"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"x")
    assert main(["models", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert "present" in lines["film"] and str(target) in lines["film"]
    assert "missing" in lines["rife"] and "21 MB" in lines["rife"]
    assert "large" in lines["wan-14b-vace"] and "GB" in lines["wan-14b-vace"]


def test_download_fetches_ahead_and_then_reports_it_present(hosts, tmp_path, capsys):  # noqa: F811
    hosts.add_file(ESRGAN_PATH, tiny_esrgan_bytes())
    assert main(["models", "download", "realesr-animevideov3"]) == 0
    saved = tmp_path / "models" / "Deforum" / "realesr-animevideov3.pth"
    assert saved.read_bytes() == tiny_esrgan_bytes()
    assert main(["models", "download", "realesr-animevideov3"]) == 0
    assert f"already at {saved}" in capsys.readouterr().out and len(hosts.state.gets(ESRGAN_PATH)) == 1


@pytest.mark.parametrize("argv, expected", [
    (["--offline", "models", "download", "rife"], "Downloads are off"),
    (["models", "download", "qwen2.5-3b"], "--allow-large-downloads"),
    (["models", "download", "no-such-model"], "Unknown model 'no-such-model'"),
])
def test_refused_downloads_are_one_clear_message(hosts, capsys, argv, expected):  # noqa: F811
    assert main(argv) == 2
    assert expected in capsys.readouterr().err and hosts.state.requests == []


def test_help_lists_the_models_command(capsys):
    with pytest.raises(SystemExit):
        main(["models", "--help"])
    text = capsys.readouterr().out
    assert "{list,download}" in text
