"""Security: no user input reaches eval/exec/unpickling, uploads stay in the data directory, the
Streamlit server runs with the locked-down settings of .streamlit/config.toml."""

from __future__ import annotations

import ast
import json
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from browser_support import streamlit_server  # noqa: F401 - pytest fixture

from superconv.data import CSV_MAX_BYTES
from superconv.uploads import safe_filename, save_csv_upload, save_upload, uploads_dir

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted([*(ROOT / "superconv").rglob("*.py"), *(ROOT / "views").glob("*.py"), ROOT / "app.py"])


def _call_name(node: ast.Call) -> str:
    parts, f = [], node.func
    while isinstance(f, ast.Attribute):
        parts.append(f.attr)
        f = f.value
    if isinstance(f, ast.Name):
        parts.append(f.id)
    return ".".join(reversed(parts))


def _kw(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def dangerous_calls(tree: ast.AST) -> list[tuple[int, str]]:
    """Calls that could execute or unpickle data: eval/exec/compile, pickle/marshal/shelve/dill loads,
    yaml.load without SafeLoader, np.load/pd.read_pickle/torch.load without a safe setting."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            found += [(node.lineno, f"import {m}") for m in mods if m.split(".")[0] in ("pickle", "marshal", "shelve", "dill", "cloudpickle")]
        if not isinstance(node, ast.Call):
            continue
        name = _call_name(node)
        last = name.rsplit(".", 1)[-1]
        if name in ("eval", "exec", "compile", "__import__") or name.endswith(("pickle.load", "pickle.loads")):
            found.append((node.lineno, name))
        elif name in ("read_pickle", "pd.read_pickle", "pandas.read_pickle") or name.endswith(".read_pickle"):
            found.append((node.lineno, name))
        elif name.endswith("yaml.load") or name == "yaml.unsafe_load":
            loader = _kw(node, "Loader")
            if not (isinstance(loader, ast.Attribute) and loader.attr in ("SafeLoader", "CSafeLoader")):
                found.append((node.lineno, f"{name} without SafeLoader"))
        elif last == "load" and name.split(".")[0] in ("np", "numpy"):
            allow = _kw(node, "allow_pickle")
            if not (isinstance(allow, ast.Constant) and allow.value is False):
                found.append((node.lineno, f"{name} without allow_pickle=False"))
        elif name in ("torch.load",):
            safe = _kw(node, "weights_only")
            if not (isinstance(safe, ast.Constant) and safe.value is True):
                found.append((node.lineno, f"{name} without weights_only=True"))
    return found


def test_the_scanner_catches_each_pattern():
    bad = ("eval(x)\nexec(x)\nimport pickle\npickle.loads(b)\nnp.load(f)\nnp.load(f, allow_pickle=True)\n"
           "yaml.load(s)\npd.read_pickle(p)\ntorch.load(p)\n")
    assert len(dangerous_calls(ast.parse(bad))) == 9
    good = "np.load(f, allow_pickle=False)\nyaml.load(s, Loader=yaml.SafeLoader)\njson.loads(s)\nmodel.evaluate(x)\n"
    assert dangerous_calls(ast.parse(good)) == []


def test_no_source_evaluates_or_unpickles_anything():
    assert len(SOURCES) > 20
    problems = {str(p.relative_to(ROOT)): hits for p in SOURCES if (hits := dangerous_calls(ast.parse(p.read_text())))}
    assert problems == {}


# --------------------------------------------------------------------------- uploads
@pytest.mark.parametrize("name", ["../../etc/x.csv", "/etc/x.csv", "..\\..\\windows\\x.csv", "a/../../../x.csv",
                                  "....//x.csv", "x.csv\x00.png", "", ".", ".."])
def test_an_upload_name_cannot_choose_where_bytes_go(tmp_path, name):
    data_dir = tmp_path / "home" / "uploads"
    path = save_upload(name, b"a,label\n1,0\n", directory=data_dir)
    assert path.parent == data_dir.resolve() and path.read_bytes() == b"a,label\n1,0\n"
    assert ".." not in path.name and "/" not in path.name and "\x00" not in path.name
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert written == [path]                                  # nothing anywhere else, no temp file left


def test_default_upload_dir_is_inside_superconv_home(tmp_path, monkeypatch):
    monkeypatch.setenv("SUPERCONV_HOME", str(tmp_path))
    assert uploads_dir() == tmp_path / "uploads"
    path = save_upload("../../../x.csv", b"1")
    assert path.parent == (tmp_path / "uploads").resolve()


def test_same_name_different_content_never_overwrites(tmp_path):
    a = save_upload("data.csv", b"a,label\n1,0\n", directory=tmp_path)
    b = save_upload("data.csv", b"a,label\n2,1\n", directory=tmp_path)
    assert a != b and a.read_bytes() != b.read_bytes()
    assert save_upload("other.csv", b"a,label\n1,0\n", directory=tmp_path) != a   # name kept for the reader
    assert safe_filename("r\u00e9sum\u00e9 (final).csv") == "r_sum_final_.csv"


GOOD_CSV = b"a,b,label\n" + b"".join(f"{i},{i % 3},{i % 2}\n".encode() for i in range(20))


@pytest.mark.parametrize("name, data, message", [
    ("big.csv", b"x" * (CSV_MAX_BYTES + 1), "too large"),
    ("latin1.csv", "a,label\n".encode() + "\u00e9,1\n".encode("latin-1") * 12, "must be UTF-8"),
    ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200), "not a CSV text file"),
    ("words.csv", b"a,label\n" + b"ten,1\n" * 6 + b"3,0\n" * 6, "column 'a' must be numeric; received 'ten'"),
    ("one_class.csv", b"a,label\n" + b"1,yes\n" * 12, "single class"),
    ("nolabel.csv", b"a,b\n" + b"1,2\n" * 12, "label_column 'label' is not a column"),
    ("empty.csv", b"", "not a valid CSV"),
    ("ragged.csv", b"a,label\n1,0\n" + b"1,2,3,4\n" * 12, "not a valid CSV"),
])
def test_bad_csv_uploads_are_refused_and_not_kept(tmp_path, name, data, message):
    with pytest.raises(ValueError, match=message) as info:
        save_csv_upload(name, data, directory=tmp_path)
    assert str(tmp_path) not in str(info.value)               # the message names the upload, not server paths
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_valid_csv_upload_is_kept_once(tmp_path):
    first = save_csv_upload("d.csv", GOOD_CSV, directory=tmp_path)
    assert save_csv_upload("d.csv", GOOD_CSV, directory=tmp_path) == first
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [first]
    with pytest.raises(ValueError, match="label_column 'y'"):  # other label column: refused, file kept
        save_csv_upload("d.csv", GOOD_CSV, label_column="y", directory=tmp_path)
    assert first.exists()


# --------------------------------------------------------------------------- server settings
def test_streamlit_config_sets_the_limits():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert 1 <= config["server"]["maxUploadSize"] <= CSV_MAX_BYTES // 2**20   # Streamlit refuses what pandas would
    assert config["server"]["enableXsrfProtection"] is True
    assert config["browser"]["gatherUsageStats"] is False
    assert config["global"]["developmentMode"] is False
    assert config["server"]["headless"] is True


def _request(url: str, method: str = "GET", headers: dict | None = None, data: bytes | None = None):
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


@pytest.mark.slow
def test_the_running_server_enforces_xsrf_and_runs_without_dev_mode(streamlit_server):  # noqa: F811
    assert _request(streamlit_server + "/")[0] == 200
    status, headers, body = _request(streamlit_server + "/_stcore/health")
    assert status == 200
    assert "_streamlit_xsrf" in headers.get("set-cookie", "")  # token issued
    # An upload without the XSRF token is refused before anything is read.
    status, _, body = _request(streamlit_server + "/_stcore/upload_file/some-session/some-file", "PUT",
                               {"Content-Type": "application/octet-stream"}, b"a,label\n1,0\n")
    assert status == 403 and b"XSRF" in body
    status, headers, _ = _request(streamlit_server + "/_stcore/upload_file/s/f", "OPTIONS")
    assert "X-Xsrftoken" in headers.get("access-control-allow-headers", "")
    status, _, body = _request(streamlit_server + "/_stcore/host-config")
    assert status == 200
    assert "http://localhost" not in json.loads(body)["allowedOrigins"]  # added only in development mode
