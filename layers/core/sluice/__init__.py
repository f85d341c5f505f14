"""Sluice: turn a bucket of documents into a grounded search-and-answer service."""

__version__ = "0.1.0"
