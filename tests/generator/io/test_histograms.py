from __future__ import annotations

import errno

import numpy as np
import pytest
import uproot

from alpgen.io.atomic import OutputError
from alpgen.io.histograms import TREE_BRANCHES, HistogramWriter, event_quantities

HISTS = ("E_tau", "E_a", "x", "theta_a", "theta_tau", "minus_t", "tau_decay_length")


def _selected(b):
    return b.n_particles == 11


def _write(path, batches, meta):
    with HistogramWriter(path, meta) as w:
        for b in batches:
            w.fill(b, extra={"n_particles": b.n_particles, "flag": _selected(b).astype(np.int8)})
            w.fill(b, "selected", mask=_selected(b))
    return path


@pytest.fixture(scope="module")
def root_file(tmp_path_factory, batch, meta):
    path = tmp_path_factory.mktemp("root") / "histograms.root"
    _write(path, [batch.select(slice(0, 15)), batch.select(slice(15, 40))], meta)
    return uproot.open(path)


def test_quantities_independent(batch):
    q = event_quantities(batch)
    tau, alp = batch.p[:, 2], batch.p[:, 4]
    np.testing.assert_allclose(q["x"], tau[:, 3] / 1500.0, rtol=1e-15)
    # θ via arccos of the direction cosine (fine at these angles) vs the writer's atan2
    cos = tau[:, 2] / np.linalg.norm(tau[:, :3], axis=1)
    np.testing.assert_allclose(q["theta_tau"], np.arccos(cos), rtol=1e-6)
    cos = alp[:, 2] / np.linalg.norm(alp[:, :3], axis=1)
    np.testing.assert_allclose(q["theta_a"], np.arccos(cos), rtol=1e-6)
    # t from the generator's info vs t recomputed from the recoil momentum
    b = batch.select(slice(None))
    del b.info["t"]
    np.testing.assert_allclose(event_quantities(b)["t"], -batch.info["t"], rtol=1e-9)
    assert np.all(q["t"] < 0)  # Mandelstam t of the nucleus
    # τ flight length = cτ βγ with cτ = Δ(ct) m / E
    dv = batch.decay_vertex(2)
    expected = (dv[:, 3] - batch.vertex[:, 2, 3]) / tau[:, 3] * np.linalg.norm(tau[:, :3], axis=1)
    np.testing.assert_allclose(q["tau_decay_length"], expected, rtol=1e-9)


def test_tree_is_ttree(root_file, batch):
    assert root_file.classname_of("events") == "TTree"
    tree = root_file["events"]
    assert tree.num_entries == len(batch)
    assert tree.keys() == [*TREE_BRANCHES, "n_particles", "flag"]
    arrays = tree.arrays(library="np")
    q = event_quantities(batch)
    for k in TREE_BRANCHES:
        np.testing.assert_array_equal(arrays[k], q[k], err_msg=k)
    np.testing.assert_array_equal(arrays["n_particles"], batch.n_particles)
    np.testing.assert_array_equal(arrays["flag"], _selected(batch))


@pytest.mark.parametrize("name", HISTS)
def test_histogram_sums(root_file, batch, name):
    w = batch.weight
    for tag, sel in (("all", np.ones(len(batch), bool)), ("selected", _selected(batch))):
        h = root_file[f"{tag}/{name}"]
        assert h.classname == "TH1D"
        values, variances = h.values(flow=True), h.variances(flow=True)
        assert values.sum() == pytest.approx(w[sel].sum(), rel=1e-12)
        assert variances.sum() == pytest.approx((w[sel] ** 2).sum(), rel=1e-12)


def test_log_axes_resolve_the_peak(root_file, batch):
    # the bulk of the entries lands inside the axis, not in under/overflow
    for name in ("theta_a", "theta_tau", "minus_t", "tau_decay_length"):
        h = root_file[f"all/{name}"]
        assert h.values(flow=False).sum() == pytest.approx(h.values(flow=True).sum())
        edges = h.axis().edges()
        assert np.allclose(np.diff(np.log(edges)), np.log(edges[1] / edges[0]))  # log binning


def test_contents_reproducible(tmp_path, batch, meta, root_file):
    other = uproot.open(
        _write(
            tmp_path / "histograms.root",
            [batch.select(slice(0, 15)), batch.select(slice(15, 40))],
            meta,
        )
    )
    assert sorted(other.keys()) == sorted(root_file.keys())
    for key, cls in root_file.classnames().items():
        if cls == "TH1D":
            np.testing.assert_array_equal(
                other[key].values(flow=True), root_file[key].values(flow=True)
            )
            np.testing.assert_array_equal(
                other[key].variances(flow=True), root_file[key].variances(flow=True)
            )
    a, b = other["events"].arrays(library="np"), root_file["events"].arrays(library="np")
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


def test_extra_columns_fixed(tmp_path, batch, meta):
    with HistogramWriter(tmp_path / "h.root", meta) as w:
        w.fill(batch, extra={"a": np.zeros(len(batch))})
        with pytest.raises(ValueError, match="differ"):
            w.fill(batch, extra={"b": np.zeros(len(batch))})
        with pytest.raises(ValueError, match="mask"):
            w.fill(batch, "selected", mask=np.ones(3, bool))
    assert uproot.open(tmp_path / "h.root")["events"].num_entries == len(batch)


def test_exception_leaves_no_file(tmp_path, batch, meta):
    with pytest.raises(RuntimeError), HistogramWriter(tmp_path / "h.root", meta) as w:
        w.fill(batch)
        raise RuntimeError
    assert list(tmp_path.iterdir()) == []


def test_enospc(tmp_path, batch, meta, monkeypatch):
    def full(self, location, serialization):
        raise OSError(errno.ENOSPC, "No space left on device")

    w = HistogramWriter(tmp_path / "h.root", meta)
    monkeypatch.setattr(uproot.sink.file.FileSink, "write", full)
    with pytest.raises(OutputError, match="No space left on device"):
        w.fill(batch)
        w.close()
    assert list(tmp_path.iterdir()) == []


def test_root_file_records_card_seed_and_versions(tmp_path, batch, meta):
    import json

    import uproot

    from alpgen.io.histograms import HistogramWriter

    path = tmp_path / "h.root"
    with HistogramWriter(path, meta) as w:
        w.fill(batch)
    with uproot.open(path) as f:
        stored = json.loads(str(f["alpgen_metadata"]))
    assert stored["seed"] == meta.seed
    assert stored["card_text"] == meta.card_text
    assert stored["versions"]["alpgen"] == meta.versions["alpgen"]
