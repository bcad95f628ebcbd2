"""Export of labeled items to training formats, with manifests for dataset versions.

Pure modules on pandas/pyarrow: no Flask, no SQLAlchemy. The app's services build the rows (one per
exported item, see :mod:`labelapp.export.rows`) and call these writers.
"""
