"""Rocket's benchmark (issue 7): ``make bench`` runs ``python -m bench``.

Modules: ``load`` (the signed-command load generator), ``baseline`` (a bare Quart app that
only verifies the Slack signature), ``servers`` (start/stop ``rocket serve`` and the
baseline as subprocesses), ``http_bench`` (the HTTP rounds and the burst), ``refresh_bench``
(team refresh against the GitHub stand-in), ``export_bench`` (``rocket db export`` of
10,000 users), ``report`` (tables and issue 7's targets). Numbers are printed, never asserted.
"""
