"""Active learning: featurizers, query strategies, the retrain-and-rescore loop, simulation.

A library: numpy/scipy in, indices and scores out. It never imports Flask or SQLAlchemy.
"""
