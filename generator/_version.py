"""The installed version of alpgen (a module of its own, so nothing imports the package root)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__: str = version("alpgen")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
