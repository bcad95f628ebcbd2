"""Augmentation and dataset splits: a library on numpy/pandas/pyarrow (never Flask or SQLAlchemy).

Modules, one idea each:

* :mod:`augment.splits` - stratified, grouped, duplicate-aware, stable, seeded train/dev/test
  splits where dev/test hold only human labels (:func:`~augment.splits.assign_splits`);
* :mod:`augment.duplicates` - exact and near-duplicate texts (MinHash + LSH, checked exactly);
* :mod:`augment.balance` - counts per split and label, chi-square test across splits;
* :mod:`augment.images` - albumentations pipelines stored as JSON, seeded per item, with masks,
  boxes and lineage (albumentations is imported lazily, with its update check off);
* :mod:`augment.text` - label-preserving text augmentation that needs nothing downloaded;
* :mod:`augment.timeseries` - sliding windows that never cross a split or recording boundary;
* :mod:`augment.plan` - what to augment and how often, read from one JSON document;
* :mod:`augment.image_io` - image files to arrays and back (OpenCV, deterministic PNG);
* :mod:`augment.preview` - a grid of augmented copies as small PNGs (the browser preview).
"""
