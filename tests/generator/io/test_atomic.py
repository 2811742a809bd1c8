from __future__ import annotations

import errno
import gzip
import os

import pytest

from alpgen.io import atomic
from alpgen.io.atomic import AtomicFile, OutputError, atomic_output


def _listing(d):
    return sorted(p.name for p in d.iterdir())


def test_success_renames_into_place(tmp_path):
    target = tmp_path / "out.txt"
    with atomic_output(target, binary=False) as f:
        f.write("hello\n")
        # nothing under the final name while writing
        assert not target.exists()
        assert _listing(tmp_path) == [f".out.txt.tmp-{os.getpid()}"]
    assert target.read_text() == "hello\n"
    assert _listing(tmp_path) == ["out.txt"]


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_exception_leaves_no_file(tmp_path, exc):
    target = tmp_path / "out.bin"
    with pytest.raises(type(exc)), atomic_output(target) as f:
        f.write(b"partial")
        raise exc
    assert _listing(tmp_path) == []


def test_failure_keeps_previous_file(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old complete file")
    with pytest.raises(RuntimeError), atomic_output(target) as f:
        f.write(b"new partial")
        raise RuntimeError
    assert target.read_bytes() == b"old complete file"
    assert _listing(tmp_path) == ["out.bin"]


def test_oserror_becomes_output_error(tmp_path):
    target = tmp_path / "out.bin"
    with pytest.raises(OutputError) as info, atomic_output(target):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    err = info.value
    assert err.errno == errno.ENOSPC
    assert err.path == target
    assert str(err) == f"cannot write {target}: No space left on device"
    assert _listing(tmp_path) == []


def test_missing_directory(tmp_path):
    target = tmp_path / "nope" / "out.bin"
    with pytest.raises(OutputError, match="No such file or directory"), atomic_output(target):
        pass


def test_permission_denied_on_open(tmp_path, monkeypatch):
    # tests run as root here, so chmod cannot provoke EACCES: patch open in the module instead
    def deny(*args, **kwargs):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))

    monkeypatch.setattr(atomic, "open", deny, raising=False)
    with pytest.raises(OutputError, match="Permission denied"), atomic_output(tmp_path / "x"):
        pass
    assert _listing(tmp_path) == []


def test_gzip_reproducible(tmp_path):
    payload = b"some text\n" * 1000
    files = []
    for name in ("a.gz", "b.gz"):
        with atomic_output(tmp_path / name, gzip=True) as f:
            f.write(payload)
        files.append((tmp_path / name).read_bytes())
    assert files[0] == files[1]  # different names, same bytes: no name, no time stamp inside
    assert files[0][4:8] == b"\0\0\0\0"  # MTIME field
    assert gzip.decompress(files[0]) == payload


def test_text_gzip(tmp_path):
    with atomic_output(tmp_path / "t.gz", binary=False, gzip=True) as f:
        f.write("αβγ\n")
    assert gzip.decompress((tmp_path / "t.gz").read_bytes()).decode() == "αβγ\n"


def test_atomic_file_abort_is_idempotent(tmp_path):
    af = AtomicFile(tmp_path / "f")
    af.open().write(b"x")
    af.abort()
    af.abort()
    af.commit()  # no-op after abort
    assert _listing(tmp_path) == []


def test_dropped_atomic_file_cleans_up(tmp_path):
    af = AtomicFile(tmp_path / "f")
    af.open().write(b"x")
    del af
    assert _listing(tmp_path) == []
