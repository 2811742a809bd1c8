"""Decays: the channel registry, the built-in ALP and τ channels, and the decay chain.

Importing the package registers the built-in channels (the registry itself imports no plug-in).
"""

from . import alp, tau  # noqa: F401  (registers the built-in channels)
