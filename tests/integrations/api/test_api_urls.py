"""The REST API's URL rule: refused unless the server runs with --allow-urls, and never a private address."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from deforum.integrations.api.validate import InvalidRequest, RequestPolicy, validate_batch  # noqa: E402

PUBLIC = "http://93.184.216.34/a1/M1.jpg"  # a global address, never contacted: validation only resolves names


def refused(item: dict, tmp_path: Path, allow_urls: bool) -> list[tuple[tuple, str]]:
    """The problems of one job, or [] when it is accepted."""
    try:
        validate_batch([item], None, RequestPolicy(tmp_path, allow_urls=allow_urls))
    except InvalidRequest as err:
        return [(p.loc, p.msg) for p in err.problems]
    return []


def test_a_url_is_refused_unless_the_server_allows_urls(tmp_path):
    found = refused({"use_mask": True, "mask_file": PUBLIC}, tmp_path, allow_urls=False)
    assert [loc[-1] for loc, _ in found] == ["mask_file"] and "--allow-urls" in found[0][1]
    assert refused({"use_mask": True, "mask_file": PUBLIC}, tmp_path, allow_urls=True) == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x.png", "http://localhost/x.png", "http://10.0.0.7/x.png",
                                 "http://169.254.169.254/latest/meta-data", "http://[::1]/x.png"])
def test_private_loopback_and_link_local_stay_refused_when_allowed(tmp_path, url):
    found = refused({"use_init": True, "init_image": url}, tmp_path, allow_urls=True)
    assert [loc[-1] for loc, _ in found] == ["init_image"]
    assert "private, loopback or link-local" in found[0][1]


def test_unused_url_defaults_and_guided_images_follow_their_switches(tmp_path):
    assert refused({"W": 64}, tmp_path, allow_urls=False) == []
    guided = '{"0": "http://127.0.0.1/Gi1.png"}'
    assert refused({"use_looper": False, "init_images": guided}, tmp_path, allow_urls=True) == []
    found = refused({"use_looper": True, "init_images": guided}, tmp_path, allow_urls=True)
    assert [loc[-1] for loc, _ in found] == ["init_images"]


def test_serve_has_the_allow_urls_flag():
    from deforum.cli import build_parser
    from deforum.cli.serve import add_serve_command

    assert build_parser((add_serve_command,)).parse_args(["serve", "--allow-urls"]).allow_urls
    assert not build_parser((add_serve_command,)).parse_args(["serve"]).allow_urls
