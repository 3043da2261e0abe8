"""``make release``: one version's artifacts, in ``dist/``.

* the wheel and the sdist (``python -m build``);
* ``pulumi-resource-baseten-v<version>-<os>-<arch>.tar.gz`` for linux and darwin, amd64 and arm64:
  the plugin as a Pulumi *source plugin*, files at the tarball's root (``PulumiPlugin.yaml``,
  ``__main__.py``, ``requirements.txt`` and the wheel it names by relative path), never a
  virtualenv. The plugin is pure Python, so the four are the same bytes under the names the
  engine asks for (``pulumi plugin install``, or a ``pluginDownloadURL``); the engine unpacks one
  into ``~/.pulumi/plugins/resource-baseten-v<version>/`` and, with that folder as working
  directory, makes ``venv`` and runs ``pip install -r requirements.txt``;
* ``SHA256SUMS`` over all of them, in ``sha256sum`` format.

With ``--plugin-download-url`` (``make release PLUGIN_DOWNLOAD_URL=...``), the URL is written
into the wheel (``provider/plugin/download_url.txt``), so the plugin's schema carries it as
``pluginDownloadURL``; the file is removed again after the build, so ``make dist`` never has it.
Run from the repository's root (it reads ``examples/baseten-plugin``).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from ._version import __version__
from .plugin.schema import DOWNLOAD_URL_FILE, PACKAGE

PLATFORMS = ("linux-amd64", "linux-arm64", "darwin-amd64", "darwin-arm64")
PLUGIN_FOLDER = Path("examples") / "baseten-plugin"
PLUGIN_FILES = ("PulumiPlugin.yaml", "__main__.py")
SEMVER = re.compile(r"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")
# Fixed metadata, so that one source tree gives the same tarball bytes (and SHA256SUMS).
_MTIME = 0
_MODE = 0o644


def tarball_name(platform: str, version: str = __version__) -> str:
    """``pulumi-resource-baseten-v0.2.0-linux-amd64.tar.gz``: the name the engine downloads."""
    return f"pulumi-resource-{PACKAGE}-v{version}-{platform}.tar.gz"


def wheel_name(version: str = __version__) -> str:
    return f"pulumi_baseten_chains-{version}-py3-none-any.whl"


def plugin_requirements(wheel: str) -> str:
    """The tarball's ``requirements.txt``: the wheel beside it (pip resolves ``./`` against its
    working directory, which the engine sets to the plugin's folder)."""
    return (
        "# The plugin's package, from the wheel in this folder. The engine installs this file\n"
        "# with the folder as working directory: venv/bin/python -m pip install -r\n"
        "# requirements.txt\n"
        f"./{wheel}\n"
    )


@contextmanager
def download_url_written(root: Path, url: str | None) -> Iterator[None]:
    """``provider/plugin/download_url.txt`` holds ``url`` while the block runs (absent if
    ``url`` is empty), and is removed afterwards."""
    target = root / "provider" / "plugin" / DOWNLOAD_URL_FILE
    target.unlink(missing_ok=True)
    if url:
        target.write_text(url + "\n", encoding="utf-8")
    try:
        yield
    finally:
        target.unlink(missing_ok=True)


def _tarball(files: Sequence[tuple[str, bytes]]) -> bytes:
    raw = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=_MTIME) as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), _MTIME, _MODE
            tar.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def write_plugin_tarballs(root: Path, outdir: Path, wheel: Path) -> list[Path]:
    """The four platform tarballs in ``outdir`` (same content, see the module docstring)."""
    files = [(name, (root / PLUGIN_FOLDER / name).read_bytes()) for name in PLUGIN_FILES]
    files.append(("requirements.txt", plugin_requirements(wheel.name).encode()))
    files.append((wheel.name, wheel.read_bytes()))
    data = _tarball(files)
    written = []
    for platform in PLATFORMS:
        path = outdir / tarball_name(platform)
        path.write_bytes(data)
        written.append(path)
    return written


def write_sha256sums(outdir: Path) -> Path:
    """``SHA256SUMS`` of every other file in ``outdir`` (``sha256sum -c SHA256SUMS`` checks it)."""
    lines = [
        f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {path.name}\n"
        for path in sorted(outdir.iterdir())
        if path.is_file() and path.name != "SHA256SUMS"
    ]
    target = outdir / "SHA256SUMS"
    target.write_text("".join(lines), encoding="utf-8")
    return target


def release(root: Path, outdir: Path, plugin_download_url: str | None = None) -> list[Path]:
    """Build every artifact of this version into ``outdir`` (emptied first); their paths."""
    if not SEMVER.match(__version__):
        raise SystemExit(f"error: version {__version__!r} is not semver; the engine refuses it")
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    with download_url_written(root, plugin_download_url):
        build = [sys.executable, "-m", "build", "--outdir", str(outdir), str(root)]
        subprocess.run(build, check=True)  # noqa: S603 (our own interpreter, fixed arguments)
    wheel = outdir / wheel_name()
    if not wheel.is_file():
        raise SystemExit(f"error: the build wrote no {wheel.name} in {outdir}")
    write_plugin_tarballs(root, outdir, wheel)
    write_sha256sums(outdir)
    return sorted(outdir.iterdir())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m provider.release", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--outdir", type=Path, default=Path("dist"))
    parser.add_argument(
        "--plugin-download-url",
        default="",
        metavar="URL",
        help="where the plugin tarballs will be published (the schema's pluginDownloadURL)",
    )
    args = parser.parse_args(argv)
    for path in release(Path.cwd(), args.outdir, args.plugin_download_url or None):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
