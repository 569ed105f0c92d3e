"""Session fixture: real OCA addons with portal access, downloaded once and cached.

``oca_addons`` maps each addon's name to its folder, unzipped from the pinned wheel into
a temporary directory. Wheels are fetched with ``pip download --no-deps`` into
``$BASTION_OCA_CACHE`` (default ``~/.cache/bastion/oca-wheels``) when missing. A failed
download fails the tests that need them, with pip's message: they never skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

# (distribution, version, addon): exact pins, so that snapshots stay stable.
OCA_WHEELS = (
    ("odoo-addon-helpdesk-mgmt", "19.0.1.3.2", "helpdesk_mgmt"),
    ("odoo-addon-rma", "19.0.1.0.4.2", "rma"),
    ("odoo-addon-dms", "19.0.1.1.6", "dms"),
    ("odoo-addon-fieldservice-portal", "19.0.1.0.0.5", "fieldservice_portal"),
    ("odoo-addon-hr-timesheet-portal", "19.0.1.0.0.2", "hr_timesheet_portal"),
    ("odoo-addon-helpdesk-portal-restriction", "18.0.1.1.1", "helpdesk_portal_restriction"),
)


def oca_cache() -> Path:
    default = Path.home() / ".cache" / "bastion" / "oca-wheels"
    return Path(os.environ.get("BASTION_OCA_CACHE", default))


def _wheel(cache: Path, distribution: str, version: str) -> Path:
    stem = f"{distribution.replace('-', '_')}-{version}-"
    found = sorted(cache.glob(f"{stem}*.whl"))
    if found:
        return found[0]
    command = [
        *(sys.executable, "-m", "pip", "download", "--no-deps", "--quiet"),
        *("--disable-pip-version-check", "-d", str(cache), f"{distribution}=={version}"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)  # noqa: S603
    found = sorted(cache.glob(f"{stem}*.whl"))
    if result.returncode != 0 or not found:
        pytest.fail(
            f"could not download {distribution}=={version} into {cache} "
            f"(pip exit {result.returncode}): {result.stderr.strip()[-800:]}\n"
            "The OCA snapshot tests need network access once; later runs use the cache.",
            pytrace=False,
        )
    return found[0]


@pytest.fixture(scope="session")
def oca_addons(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    cache = oca_cache()
    cache.mkdir(parents=True, exist_ok=True)
    target = tmp_path_factory.mktemp("oca")
    addons: dict[str, Path] = {}
    for distribution, version, addon in OCA_WHEELS:
        with zipfile.ZipFile(_wheel(cache, distribution, version)) as archive:
            members = [m for m in archive.namelist() if m.startswith(f"odoo/addons/{addon}/")]
            archive.extractall(target, members)
        addons[addon] = target / "odoo" / "addons" / addon
    return addons
