"""Active learning: featurizers, query strategies, the retrain-and-rescore loop, simulation.

A library: numpy/scipy in, indices and scores out. It never imports Flask or SQLAlchemy; modAL
(behind :mod:`active_learning.modal_compat`), torch and matplotlib are imported lazily.

The app's entry point (its background retrain job)::

    from active_learning.retrain import retrain_and_score

    result = retrain_and_score(
        texts,                  # every item of the project, in a fixed order (or a feature matrix)
        labeled_indices,        # positions in ``texts`` with a human label (latest per item)
        labels,                 # those labels
        strategy="auto",        # a name from active_learning.strategies.STRATEGIES
        batch_size=20,          # the next batch the strategy chooses comes first in the queue
        random_state=0,
        data_version="import-7",  # featurize (and cluster) once per version; cached
        cache=FeatureCache("<data dir>/features"),  # optional: share features across processes
    )
    result.pool_indices   # positions without a human label (held-out ones excluded)
    result.priority       # new queue priority per pool position, in (0, 1], higher = sooner
    result.score          # the strategy's informativeness per pool position ("why chosen")
    result.selected       # the chosen batch (positions), in order
    result.metrics        # accuracy / f1_macro on held-out human labels, or None
    result.model          # the fitted classifier (e.g. to store a ModelRun)

Optional: ``holdout_indices``/``holdout_labels`` (a fixed dev set), ``extra_indices``/
``extra_labels`` (confident weak labels, used for training only), ``featurizer="embeddings"``
with ``embedding_cache_dir`` (vectors kept per text by content hash; TF-IDF when the model
cannot load). Featurizers alone: :mod:`active_learning.features` (``embed_texts``,
``make_featurizer``).

Strategies share one signature, ``strategy(model, X_pool, n, **state) -> (indices, scores)``
(see :mod:`active_learning.base`): ``auto`` (default: typical items until the model is stable,
then diverse margin), ``random``, ``margin``, ``least_confidence``, ``entropy``, ``cluster``,
``committee``, ``region``, ``diversity`` (``committee_kl`` was dropped).
Offline comparison: :func:`active_learning.simulation.simulate` and ``labelapp simulate``.
"""
