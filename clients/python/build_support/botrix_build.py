"""PEP 517 build backend: setuptools, with a standard-library fallback for offline installs.

Every hook goes to ``setuptools.build_meta`` when setuptools can build wheels (setuptools
70.1+, or an older one with the ``wheel`` package). Otherwise — the offline case
``pip install --no-build-isolation .`` on a Python that has setuptools < 70.1 but no
``wheel`` (as on Python 3.11's own ensurepip) — the wheel, its metadata and the editable
wheel are written here with zipfile. The package is pure Python, so the result is the
same ``py3-none-any`` wheel setuptools would make.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import tarfile
import tomllib
import zipfile

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _setuptools():
    try:
        import setuptools
        from setuptools import build_meta
    except ImportError:
        return None
    major, minor = (int(x) for x in setuptools.__version__.split(".")[:2])
    if (major, minor) >= (70, 1):
        return build_meta
    try:
        import wheel  # noqa: F401  (older setuptools needs it for bdist_wheel)
    except ImportError:
        return None
    return build_meta


# ---------------------------------------------------------------- hooks


def get_requires_for_build_wheel(config_settings=None):
    st = _setuptools()
    return st.get_requires_for_build_wheel(config_settings) if st else []


def get_requires_for_build_editable(config_settings=None):
    st = _setuptools()
    return st.get_requires_for_build_editable(config_settings) if st else []


def get_requires_for_build_sdist(config_settings=None):
    st = _setuptools()
    return st.get_requires_for_build_sdist(config_settings) if st else []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    st = _setuptools()
    if st:
        return st.prepare_metadata_for_build_wheel(metadata_directory, config_settings)
    return _write_dist_info(metadata_directory)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    st = _setuptools()
    if st:
        return st.prepare_metadata_for_build_editable(metadata_directory, config_settings)
    return _write_dist_info(metadata_directory)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    st = _setuptools()
    if st:
        return st.build_wheel(wheel_directory, config_settings, metadata_directory)
    return _build_wheel(wheel_directory, editable=False)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    st = _setuptools()
    if st:
        return st.build_editable(wheel_directory, config_settings, metadata_directory)
    return _build_wheel(wheel_directory, editable=True)


def build_sdist(sdist_directory, config_settings=None):
    try:
        from setuptools import build_meta  # an sdist needs no wheel package
    except ImportError:
        return _build_sdist(sdist_directory)
    return build_meta.build_sdist(sdist_directory, config_settings)


# ---------------------------------------------------------------- fallback


def _project():
    with open(os.path.join(_ROOT, "pyproject.toml"), "rb") as f:
        return tomllib.load(f)["project"]


def _dist_name(project):
    return project["name"].replace("-", "_")


def _metadata(project) -> str:
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
    ]
    if project.get("description"):
        lines.append(f"Summary: {project['description']}")
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    for c in project.get("classifiers", []):
        lines.append(f"Classifier: {c}")
    for dep in project.get("dependencies", []):
        lines.append(f"Requires-Dist: {dep}")
    body = ""
    readme = project.get("readme")
    if isinstance(readme, str) and os.path.exists(os.path.join(_ROOT, readme)):
        lines.append("Description-Content-Type: text/markdown")
        with open(os.path.join(_ROOT, readme), encoding="utf-8") as f:
            body = f.read()
    return "\n".join(lines) + "\n\n" + body


_WHEEL = "Wheel-Version: 1.0\nGenerator: botrix_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _write_dist_info(directory) -> str:
    project = _project()
    name = f"{_dist_name(project)}-{project['version']}.dist-info"
    path = os.path.join(directory, name)
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata(project))
    with open(os.path.join(path, "WHEEL"), "w", encoding="utf-8") as f:
        f.write(_WHEEL)
    return name


def _package_files():
    src = os.path.join(_ROOT, "src")
    for dirpath, dirnames, filenames in os.walk(src):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__" and not d.endswith(".egg-info"))
        for fn in sorted(filenames):
            if fn.endswith((".pyc", ".pyo")):
                continue
            full = os.path.join(dirpath, fn)
            yield full, os.path.relpath(full, src).replace(os.sep, "/")


def _build_wheel(wheel_directory, editable: bool) -> str:
    project = _project()
    dist = _dist_name(project)
    version = project["version"]
    info = f"{dist}-{version}.dist-info"
    filename = f"{dist}-{version}-py3-none-any.whl"
    entries: list[tuple[str, bytes]] = []
    if editable:
        entries.append((f"__editable__.{dist}.pth", (os.path.join(_ROOT, "src") + "\n").encode()))
    else:
        for full, arc in _package_files():
            with open(full, "rb") as f:
                entries.append((arc, f.read()))
    entries.append((f"{info}/METADATA", _metadata(project).encode("utf-8")))
    entries.append((f"{info}/WHEEL", _WHEEL.encode()))
    top = sorted({arc.split("/")[0] for arc, _ in entries if "/" in arc and not arc.startswith(info)})
    entries.append((f"{info}/top_level.txt", ("\n".join(top) + "\n").encode()))
    record = io.StringIO()
    for arc, data in entries:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{arc},sha256={digest},{len(data)}\n")
    record.write(f"{info}/RECORD,,\n")
    entries.append((f"{info}/RECORD", record.getvalue().encode()))
    os.makedirs(wheel_directory, exist_ok=True)
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w", zipfile.ZIP_DEFLATED) as zf:
        for arc, data in entries:
            zi = zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(zi, data)
    return filename


def _build_sdist(sdist_directory) -> str:
    project = _project()
    base = f"{_dist_name(project)}-{project['version']}"
    os.makedirs(sdist_directory, exist_ok=True)
    out = os.path.join(sdist_directory, base + ".tar.gz")
    skip = {"build", "dist", "__pycache__", ".git"}
    with tarfile.open(out, "w:gz") as tar:
        for dirpath, dirnames, filenames in os.walk(_ROOT):
            dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.endswith(".egg-info"))
            for fn in sorted(filenames):
                if fn.endswith(".pyc"):
                    continue
                full = os.path.join(dirpath, fn)
                tar.add(full, arcname=f"{base}/{os.path.relpath(full, _ROOT)}")
        info = tarfile.TarInfo(f"{base}/PKG-INFO")
        data = _metadata(project).encode("utf-8")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return os.path.basename(out)
