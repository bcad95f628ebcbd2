"""JSON serializers of the API's resources, one module per family: ``projects`` (project,
members, label set, columns, guidelines), ``users`` (user, account, credentials), ``items``
(item, claim, annotation, import), ``jobs`` (job, model run, weak-supervision run) and
``review`` (flag, review row, correction, adjudication entry).

Two stay beside the services that use them, so that services never import the API package:
``labelapp.services.weak.lfs.lf_json`` (the LF analysis, a service, builds its rows with it)
and ``labelapp.services.schema.views.version_json`` (``schema_overview`` uses it)."""
