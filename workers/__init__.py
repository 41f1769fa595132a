"""The job tasks, thin (load, call the core, save), run by RQ workers and by the service's
in-process executor alike: ``tasks.run_job`` (found by its name, never imported by ``service``)
dispatches on a job's kind through ``registry.TASKS``, filled by the task modules ``check``,
``deep`` and ``fix_task``; ``batch`` holds the task of ``mediacheck batch --queue``."""
