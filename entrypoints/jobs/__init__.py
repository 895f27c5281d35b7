"""Scheduled jobs: APScheduler (AsyncIOScheduler) started with the web app.

- ``base.Job``: what a job is (``name``, ``trigger``, ``lease_seconds``, ``async run() -> str``).
- one module per job: ``promoter``, ``refresh``, ``drive_sync``.
- ``registry.JOBS``: the one list of job factories; the app schedules exactly these.
- ``runner.LeasedRunner``: takes a storage lease per (job, scheduled fire time) before a run,
  so with several workers or replicas each trigger runs once.
- ``scheduler``: ``start_scheduler`` / ``stop_scheduler`` and the Quart wiring
  (``ROCKET_SCHEDULER=off`` disables it).

How to add a job: write ``entrypoints/jobs/<name>.py`` with a class that has ``name``,
``trigger``, ``lease_seconds`` and ``async def run(self) -> str``, whose ``__init__`` takes
``(ports, settings)``; then add that class to ``JOBS`` in ``registry.py``. Nothing else.
"""
