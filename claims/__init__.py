"""Claims core: the domain, its storage, import, review and export."""

__version__ = "0.1.0"
