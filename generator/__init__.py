"""alpgen: Monte Carlo event generator for lepton-flavour-violating ALPs, μ A → τ A a."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("alpgen")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
