"""Incident-lepton energy spectra (e.g. the FASERν2 muon flux).

A spectrum is given on energy nodes E_i (GeV, strictly increasing) as dN/dE for negative and
positive leptons (per GeV, any common normalisation). Between nodes dN/dE is interpolated linearly
in (ln E, ln dN/dE), i.e. as a power law, which is how falling fluxes are tabulated.

Optionally the file gives the longitudinal polarization of each charge as a function of energy
(columns ``polarization_mu_minus``, ``polarization_mu_plus``): the mean lab-frame helicity of the
beam lepton, in [−1, 1], interpolated linearly in ln E like the charge fraction. A missing
column means that charge is unpolarized (0). With such columns the card must not also set
``beam.polarization``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class BeamSpectrum:
    """Tabulated incident-lepton spectrum. ``energies`` in GeV, ``dn_de_*`` per GeV."""

    energies: np.ndarray
    dn_de_minus: np.ndarray
    dn_de_plus: np.ndarray
    label: str = ""
    source: str = ""
    #: polarization (mean lab helicity, −1 … 1) of the negative / positive leptons on the nodes;
    #: ``None``: the column is absent (unpolarized, or the card's constant beam.polarization)
    pol_minus: np.ndarray | None = None
    pol_plus: np.ndarray | None = None

    @property
    def has_polarization(self) -> bool:
        """True if the file gave at least one polarization column."""
        return self.pol_minus is not None or self.pol_plus is not None

    def polarization_nodes(self, charge: str) -> np.ndarray | None:
        """Polarization on the nodes for ``charge`` ``"minus"``/``"plus"``; zeros if only the
        other charge's column was given, ``None`` if the file has no polarization column."""
        if not self.has_polarization:
            return None
        if charge not in ("minus", "plus"):
            raise ValueError(f"charge must be 'minus' or 'plus', not {charge!r}")
        v = self.pol_minus if charge == "minus" else self.pol_plus
        return np.zeros_like(self.energies, dtype=float) if v is None else np.asarray(v, float)

    def polarization(self, energy: np.ndarray | float, charge: str) -> np.ndarray:
        """Polarization of ``charge`` (``"minus"``/``"plus"``) at ``energy`` (GeV), linear in
        ln E between nodes; 0 without polarization columns."""
        nodes = self.polarization_nodes(charge)
        if nodes is None:
            return np.zeros_like(np.asarray(energy, float))
        return np.interp(np.log(energy), np.log(self.energies), nodes)

    @property
    def dn_de(self) -> np.ndarray:
        """Charge-summed dN/dE on the nodes."""
        return self.dn_de_minus + self.dn_de_plus

    def fraction_minus(self, energy: np.ndarray | float) -> np.ndarray:
        """Fraction of negative leptons at ``energy`` (GeV), interpolated between nodes."""
        frac = np.divide(
            self.dn_de_minus, self.dn_de, out=np.full_like(self.dn_de, 0.5), where=self.dn_de > 0
        )
        return np.interp(np.log(energy), np.log(self.energies), frac)

    @property
    def e_min(self) -> float:
        return float(self.energies[0])

    @property
    def e_max(self) -> float:
        return float(self.energies[-1])

    # -- interpolation and integrals (added for the detector / flux normalisation) ------------
    def _nodes(self, charge: str) -> np.ndarray:
        if charge == "sum":
            return np.asarray(self.dn_de, float)
        if charge == "minus":
            return np.asarray(self.dn_de_minus, float)
        if charge == "plus":
            return np.asarray(self.dn_de_plus, float)
        raise ValueError(f"charge must be 'sum', 'minus' or 'plus', not {charge!r}")

    def dn_de_at(self, energy: np.ndarray | float, charge: str = "sum") -> np.ndarray:
        """dN/dE (per GeV) at ``energy`` (GeV), 0 outside [e_min, e_max].

        Power-law interpolation between nodes where both nodes are positive; linear where one of
        them is zero (a power law cannot reach zero), so trailing zero nodes stay well defined.
        """
        e = np.atleast_1d(np.asarray(energy, float))
        x = np.asarray(self.energies, float)
        f = self._nodes(charge)
        out = np.zeros_like(e)
        inside = (e >= x[0]) & (e <= x[-1])
        i = np.clip(np.searchsorted(x, e[inside], side="right") - 1, 0, len(x) - 2)
        x0, x1, f0, f1 = x[i], x[i + 1], f[i], f[i + 1]
        pos = (f0 > 0) & (f1 > 0)
        u = np.log(e[inside] / x0) / np.log(x1 / x0)
        lin = f0 + (f1 - f0) * (e[inside] - x0) / (x1 - x0)
        with np.errstate(divide="ignore", invalid="ignore"):
            pw = f0 * np.exp(u * np.log(np.where(pos, f1 / np.where(pos, f0, 1.0), 1.0)))
        out[inside] = np.where(pos, pw, lin)
        return out if np.ndim(energy) else out[0]

    def integral(
        self, e_lo: float | None = None, e_hi: float | None = None, charge: str = "sum"
    ) -> float:
        """∫ dN/dE dE over [e_lo, e_hi] (defaults: the whole tabulated range), with the same
        interpolation as :meth:`dn_de_at`, integrated exactly segment by segment."""
        x = np.asarray(self.energies, float)
        f = self._nodes(charge)
        lo = x[0] if e_lo is None else max(float(e_lo), x[0])
        hi = x[-1] if e_hi is None else min(float(e_hi), x[-1])
        total = 0.0
        for i in range(len(x) - 1):
            a, b = max(lo, x[i]), min(hi, x[i + 1])
            if b <= a:
                continue
            x0, x1, f0, f1 = x[i], x[i + 1], f[i], f[i + 1]
            if f0 > 0.0 and f1 > 0.0:
                k = np.log(f1 / f0) / np.log(x1 / x0)  # local power-law index
                if abs(k + 1.0) < 1e-12:
                    total += f0 * x0 * np.log(b / a)
                else:
                    total += f0 * x0 / (k + 1.0) * ((b / x0) ** (k + 1.0) - (a / x0) ** (k + 1.0))
            else:
                fa = f0 + (f1 - f0) * (a - x0) / (x1 - x0)
                fb = f0 + (f1 - f0) * (b - x0) / (x1 - x0)
                total += 0.5 * (fa + fb) * (b - a)
        return float(total)


class SpectrumError(ValueError):
    """A beam-spectrum file could not be read; the message names the file (and line)."""


#: Columns a spectrum file must have (any order; further columns are ignored).
SPECTRUM_COLUMNS = ("E_GeV", "dN_dE_mu_minus", "dN_dE_mu_plus")
#: Optional columns: longitudinal polarization (mean lab helicity) of μ⁻ and μ⁺, in [−1, 1].
POLARIZATION_COLUMNS = ("polarization_mu_minus", "polarization_mu_plus")


def load_spectrum(path: str | os.PathLike[str]) -> BeamSpectrum:
    """Read a beam spectrum from a CSV file.

    Format: ``#`` comment lines anywhere, then a header line naming at least the columns
    ``E_GeV, dN_dE_mu_minus, dN_dE_mu_plus`` (GeV; per GeV, any common normalisation), then one
    row per energy node, strictly increasing and positive energies, non-negative densities,
    at least two nodes. A comment ``# label: ...`` sets the spectrum's label (else the file stem).
    Raises :class:`SpectrumError` naming the file and the offending line.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpectrumError(f"{p}: spectrum file not found") from None
    except OSError as err:
        raise SpectrumError(f"{p}: cannot read spectrum file ({err})") from None

    label = ""
    header: list[str] | None = None
    header_line = 0
    cols: list[int] = []
    pol_cols: list[int | None] = [None, None]
    rows: list[tuple[float, float, float]] = []
    pols: list[list[float]] = [[], []]
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            body = line.lstrip("#").strip()
            if body.lower().startswith("label:") and not label:
                label = body.split(":", 1)[1].strip()
            continue
        fields = [s.strip() for s in line.split(",")]
        if header is None:
            header, header_line = fields, lineno
            missing = [c for c in SPECTRUM_COLUMNS if c not in header]
            if missing:
                raise SpectrumError(
                    f"{p}:{lineno}: header lacks required column(s) {', '.join(missing)}; "
                    f"found {', '.join(header)}; required {', '.join(SPECTRUM_COLUMNS)}"
                )
            cols = [header.index(c) for c in SPECTRUM_COLUMNS]
            pol_cols = [header.index(c) if c in header else None for c in POLARIZATION_COLUMNS]
            continue
        if len(fields) != len(header):
            raise SpectrumError(
                f"{p}:{lineno}: malformed row: {len(fields)} fields, header (line "
                f"{header_line}) has {len(header)}"
            )
        try:
            vals = tuple(float(fields[c]) for c in cols)
        except ValueError:
            raise SpectrumError(
                f"{p}:{lineno}: malformed row: non-numeric value in {line!r}"
            ) from None
        if not all(np.isfinite(vals)):
            raise SpectrumError(f"{p}:{lineno}: non-finite value in {line!r}")
        e, fm, fp = vals
        if e <= 0.0:
            raise SpectrumError(f"{p}:{lineno}: energy must be positive, got {e}")
        if fm < 0.0 or fp < 0.0:
            raise SpectrumError(f"{p}:{lineno}: negative dN/dE in {line!r}")
        if rows and e <= rows[-1][0]:
            raise SpectrumError(
                f"{p}:{lineno}: energies must be strictly increasing, {e} follows {rows[-1][0]}"
            )
        rows.append(vals)  # type: ignore[arg-type]
        for j, c in enumerate(pol_cols):
            if c is None:
                continue
            name = POLARIZATION_COLUMNS[j]
            try:
                pv = float(fields[c])
            except ValueError:
                raise SpectrumError(f"{p}:{lineno}: column {name}: non-numeric value") from None
            if not -1.0 <= pv <= 1.0:  # also rejects nan
                raise SpectrumError(
                    f"{p}:{lineno}: column {name} = {fields[c]} must lie in [-1, 1] "
                    "(mean helicity of the beam lepton)"
                )
            pols[j].append(pv)
    if header is None:
        raise SpectrumError(f"{p}: empty spectrum file (no header, no data)")
    if len(rows) < 2:
        raise SpectrumError(f"{p}: a spectrum needs at least 2 energy nodes, found {len(rows)}")
    arr = np.array(rows)
    return BeamSpectrum(
        energies=arr[:, 0],
        dn_de_minus=arr[:, 1],
        dn_de_plus=arr[:, 2],
        label=label or p.stem,
        source=str(p),
        pol_minus=np.array(pols[0]) if pol_cols[0] is not None else None,
        pol_plus=np.array(pols[1]) if pol_cols[1] is not None else None,
    )
