"""The client's hashed assets go out precompressed: built as .gz and .br, and served with the right
Content-Encoding by the app and by nginx (gzip_static)."""

from __future__ import annotations

import asyncio
import gzip
import shutil
import subprocess
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from scripts.nginx_config import local_settings, render
from scripts.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
BUILT_ASSETS = ROOT / "client" / "dist" / "assets"
SCRIPT = b"console.log('a hashed bundle, long enough to be worth compressing');\n" * 200


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    """A build as `npm run build` leaves it: each asset beside its .gz and .br."""
    root = tmp_path / "dist"
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>investor-chat</title>")
    (root / "assets" / "index-3f9a.js").write_bytes(SCRIPT)
    (root / "assets" / "index-3f9a.js.gz").write_bytes(gzip.compress(SCRIPT))
    (root / "assets" / "index-3f9a.js.br").write_bytes(b"brotli bytes as the build wrote them")
    return root


def test_the_build_writes_gzip_and_brotli_beside_each_script_and_stylesheet() -> None:
    if not BUILT_ASSETS.is_dir():
        pytest.fail("client/dist is missing: build it with `make client`")
    built = [p for p in BUILT_ASSETS.iterdir() if p.suffix in (".js", ".css")]
    assert built
    for asset in built:
        assert gzip.decompress(Path(f"{asset}.gz").read_bytes()) == asset.read_bytes()
        brotli = Path(f"{asset}.br").read_bytes()
        assert 0 < len(brotli) < len(asset.read_bytes()) // 2, asset.name


async def _get(url: str, accept: str | None) -> tuple[int, dict[str, str], bytes]:
    headers = {"Accept-Encoding": accept} if accept is not None else {}
    async with aiohttp.ClientSession(auto_decompress=False, skip_auto_headers=["Accept-Encoding"]) as http:
        async with http.get(url, headers=headers) as resp:
            return resp.status, dict(resp.headers), await resp.read()


async def test_the_app_serves_assets_compressed_as_the_browser_allows(
    make_server: Callable[..., Awaitable[TestServer]], dist: Path
) -> None:
    server = await make_server(client_dir=str(dist))
    url = str(server.make_url("/assets/index-3f9a.js"))

    status, headers, body = await _get(url, "gzip, deflate, br, zstd")
    assert status == 200 and headers["Content-Encoding"] == "br"
    assert body == (dist / "assets" / "index-3f9a.js.br").read_bytes()
    assert headers["Content-Type"].startswith(("text/javascript", "application/javascript"))

    status, headers, body = await _get(url, "gzip, deflate")
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == SCRIPT

    status, headers, body = await _get(url, None)
    assert "Content-Encoding" not in headers and body == SCRIPT
    # Every answer says it depends on Accept-Encoding, so no cache mixes them up.
    assert headers["Vary"] == "Accept-Encoding" and "immutable" in headers["Cache-Control"]


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[str]:
    """The real nginx with the real template, serving the real build (no nodes behind it: files
    only; nginx's workers, not root, must be able to read them, so not from a private tmp_path)."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail("nginx is not installed: apt-get install -y nginx")
    port = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(render(local_settings(tmp_path, port, ["127.0.0.1:9"], BUILT_ASSETS.parent)))
    log = tmp_path / "nginx.out"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, "-p", str(tmp_path), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


async def test_nginx_serves_the_gzip_file_the_build_wrote(nginx: str, tmp_path: Path) -> None:
    script = next(BUILT_ASSETS.glob("*.js"))
    url = f"{nginx}/assets/{script.name}"
    for _ in range(50):
        try:
            status, headers, body = await _get(url, "gzip, deflate, br")
            break
        except aiohttp.ClientConnectionError:
            await asyncio.sleep(0.1)
    else:
        pytest.fail(f"nginx did not start:\n{(tmp_path / 'nginx.out').read_text()}")
    assert status == 200, (tmp_path / "error.log").read_text()
    assert headers["Content-Encoding"] == "gzip"
    assert body == Path(f"{script}.gz").read_bytes()
    assert headers["Vary"] == "Accept-Encoding" and "immutable" in headers["Cache-Control"]

    status, headers, body = await _get(url, None)
    assert "Content-Encoding" not in headers and body == script.read_bytes()
