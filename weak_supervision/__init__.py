"""Weak supervision: labeling functions, appliers, LF analysis, label models, label propagation.

A library: numpy/pandas/scipy in, arrays out. It never imports Flask or SQLAlchemy.
"""
