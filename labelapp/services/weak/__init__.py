"""Weak supervision for a project: labeling functions (versioned), their votes, LF analysis, the
label model and label propagation, with probabilistic labels stored per item with their source.

Modules, each importing only the ones above it in this list:

- :mod:`.pipeline`: the steps as one job (apply, fit, propagate, train);
- :mod:`.end_model`: the end model trained on the probabilistic labels (the ``train`` step);
- :mod:`.models`: the label model chosen from the zoo, and label propagation;
- :mod:`.analysis_job`: the ``lf_analysis`` job, computing the LF analysis in a worker;
- :mod:`.votes`: LF previews, applying LFs (:mod:`.dask_apply`: pandas or Dask), LF analysis
  (served by :mod:`.analysis_report` while :mod:`.cache`'s key of its inputs is unchanged);
- :mod:`.lfs`: LF storage, validation and versions;
- :mod:`.runs`: step names, run and probabilistic-label summaries for pages;
- :mod:`.common`: the project's classes, items as a frame, human labels by item.

The library (:mod:`weak_supervision`) does the work; these modules turn rows into a DataFrame and
vote matrices and write the results back. LFs vote a class index: index ``i`` is the ``i``-th
non-'ambiguous' label of the project in display order (declarative specs are stored with the
label's *name*, so reordering nothing breaks them).

Python LFs are created from files by ``labelapp lf load`` or from the LF page's editor
(:mod:`labelapp.services.lf_versions`) and never executed in a labelapp process: loading,
previewing and applying them run them in the sandbox
(:mod:`labelapp.services.lf_guard`, :mod:`weak_supervision.sandbox`), a separate process with
CPU, wall-time and memory limits, no network and no files but its own. Regex LFs whose pattern
RE2 cannot run use Python's ``re`` in a child process with a time limit, never in a request's.
"""
