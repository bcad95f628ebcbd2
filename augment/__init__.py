"""Augmentation and dataset splits: image pipelines, time-series windows, text, splits.

A library: it never imports Flask or SQLAlchemy.
"""
