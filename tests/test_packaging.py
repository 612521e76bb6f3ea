"""The installed package, as the Dockerfile builds it (`pip install .`), carries everything it runs on.

No Docker engine runs here, so the image's contents are checked without the image: a wheel is
built from the files git tracks (what a clean checkout holds), installed apart from the source
tree, and asked to migrate a database, serve pages and static files, and find its bundled data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("service", "workers")

SMOKE = """
import sys
from pathlib import Path
import service, workers.model
from service import create_app
target = Path(sys.argv[1]).resolve()
assert Path(service.__file__).resolve().is_relative_to(target), service.__file__
client = create_app().test_client()
assert client.get("/admin/login").status_code == 200
assert client.get("/static/admin.js").status_code == 200
assert client.get("/static/public.css").status_code == 200
answer = client.post("/comments", json={"author": "Ada", "email": "ada@example.org", "post_id": "p1",
                                        "comment": "Installed <script>x</script><b>fine</b>."})
assert answer.status_code == 202, answer.get_json()
assert answer.get_json()["comment"]["content"] == "Installed <b>fine</b>.", answer.get_json()
data = sorted(Path(workers.model.__file__).parent.glob("data/spam/*.csv"))
assert len(data) == 4, data
print("ok")
"""


@pytest.fixture(scope="module")
def tracked() -> list[str]:
    """The files a clean checkout holds that go into the image (the Dockerfile's COPY lines)."""
    names = ["pyproject.toml", "README.md", *PACKAGES]
    listing = subprocess.run(["git", "ls-files", "-z", "--", *names], cwd=ROOT, capture_output=True, check=True)
    return [name for name in listing.stdout.decode().split("\0") if name]


@pytest.fixture(scope="module")
def wheel(tracked: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the tracked files, so no stale build/ folder can fill gaps."""
    source = tmp_path_factory.mktemp("source")
    for name in tracked:
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(dist), str(source)], check=True, capture_output=True)
    return next(dist.glob("*.whl"))


def test_the_wheel_carries_every_tracked_file_of_the_packages(wheel: Path, tracked: list[str]) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in tracked if name.startswith(PACKAGES) and name not in names]
    assert not missing, f"left out of the wheel (package-data in pyproject.toml): {missing}"


def test_the_installed_package_migrates_and_serves_outside_the_source_tree(
    wheel: Path, tmp_path: Path, redis_url: str
) -> None:
    target = tmp_path / "site-packages"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    # As in the image: no database URL, the instance folder named (an installed package's default,
    # <prefix>/var/service-instance, is not writable by the image's user).
    env = {name: value for name, value in os.environ.items() if name not in ("DATABASE_URL", "COMMENTS_MODEL_PATH")}
    env |= {"PYTHONPATH": str(target), "COMMENTS_INSTANCE_PATH": str(tmp_path / "instance"), "REDIS_URL": redis_url,
            "COMMENTS_SECRET_KEY": "packaging-test-" + "k" * 32, "COMMENTS_LOG_LEVEL": "WARNING"}
    upgrade = subprocess.run([sys.executable, "-m", "service", "db", "upgrade"], cwd=tmp_path, env=env,
                             capture_output=True, text=True)
    assert upgrade.returncode == 0, upgrade.stderr
    assert (tmp_path / "instance" / "comments.sqlite3").is_file()
    smoke = subprocess.run([sys.executable, "-c", SMOKE, str(target)], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
    assert smoke.returncode == 0 and smoke.stdout.strip() == "ok", smoke.stderr
