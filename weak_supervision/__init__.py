"""Weak supervision: labeling functions, appliers, LF analysis, label models, label propagation.

A library: numpy/pandas/scipy in, arrays out. It never imports Flask or SQLAlchemy, and imports
Snorkel, torch and Dask only inside the functions that need them (Snorkel's label model costs
~4 s to import).

Entry points (votes are ``(n_items, n_lfs)`` int matrices, -1 = abstain, classes 0..k-1):

``lfs.lf_from_spec(spec, n_classes=None)`` / ``lfs.lfs_from_specs(specs)``
    An LF from a plain dict; ``ValueError`` names the LF and the bad key. Kinds::

        {"kind": "keyword", "name": "kw_sub", "label": 1, "keywords": ["subscribe", "plz"],
         "field": "text", "case_sensitive": False}
        {"kind": "regex", "name": "re_check", "label": 1, "pattern": "check.*out",
         "field": "text", "ignore_case": True}
        {"kind": "metadata", "name": "md_long", "label": 0, "field": "n_words", "op": ">",
         "value": 40}                  # ops: == != < <= > >= in "not in"
        {"kind": "python", "name": "short_comment", "source": "<module text>"}

    Declarative LFs have ``vote(row)``, ``to_spec()`` and ``to_snorkel()``.
``python_lfs.load_python_lfs(path)`` / ``python_lfs_from_source(source)``
    The Snorkel ``LabelingFunction`` objects a ``.py`` file defines (``@labeling_function``).
    This runs the file's code: for files an SME hands to the CLI, never for browser input.
``apply.apply_lfs(lfs, df) -> votes``
    Declarative LFs vectorized (Arrow/RE2, exactly Snorkel's ``PandasLFApplier`` votes),
    Python LFs through Snorkel. ``apply.apply_lfs_dask(lfs, df, scheduler_address=None,
    n_workers=2)`` gives the same matrix on a ``dask.distributed`` cluster (LocalCluster if no
    address).
``analysis.lf_analysis(L, human_labels=None, lf_names=None) -> DataFrame``
    Polarity, coverage, overlaps, conflicts, correct/incorrect/emp_accuracy per LF;
    ``analysis.lf_examples(L, j, texts, human_labels)`` -> sample hits and disagreements.
``pipeline.fit_label_model(L, n_classes, human_labels=None) -> probs``
    The default pipeline: Snorkel's label model and majority vote (with and without the human
    class balance), the one scoring best on the human labels wins.
    ``pipeline.choose_label_model(L, k, L_dev, y_dev)`` returns the choice, its scores and a
    ``predict_proba`` for other items. Building blocks: ``label_model.LabelModel`` (Snorkel's
    model, fitted on distinct vote patterns: same parameters, a fraction of the memory),
    ``majority.majority_vote`` / ``majority_vote_proba`` / ``probs_to_preds`` (Snorkel's
    tie-break; reproduces WRENCH's published MV numbers exactly).
``zoo.select_label_model(L, human_labels, n_classes, metric="f1") -> LabelModelSelection``
    The label-model zoo (Snorkel's model with and without the labels' class balance, majority
    and weighted majority vote, Dawid-Skene on LF votes, FlyingSquid's triplet method, a
    semi-supervised naive Bayes and its labels-only form), one chosen by k-fold
    cross-validation on the human labels (one-standard-error rule towards the earlier
    candidate); ``.name``, ``.scores``, ``.reason``, ``.predict_proba(L, name=None)``.
``agreement.crowd_methods.choose_aggregator(answers, gold=None) -> AggregatorChoice``
    Crowd aggregation: ours (Dawid-Skene, majority vote, Wawa) and crowd-kit's (one-coin DS,
    GLAD, MACE, M-MSR; extra ``labelapp[crowd]``), picked by gold accuracy or a documented rule.
``propagation.propagate(X, seeds, n_classes, n_neighbors=10, graph="auto") -> probs``
    Label spreading on a sparse kNN graph (exact scikit-learn, or from 20k rows each row's
    nearest faiss k-means cells searched with matrix products);
    ``propagation.propagation_seeds(human_labels, lm_probs, threshold=0.7)`` builds the seeds.
    Unreached rows are all-zero. ``neighbour_graph(X)`` + ``propagate_on_graph(graph, seeds,
    n_classes)``: the same, the graph built once for several seed sets.
``end_model.fit_end_model(X, probs)``
    A classifier trained on probabilistic labels through per-class sample weights.
``evaluate.evaluate_wrench(path)``
    MV vs the pipeline on a WRENCH folder (what ``labelapp ws evaluate DIR`` prints).
"""
