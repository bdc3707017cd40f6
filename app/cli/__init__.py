"""Flask CLI commands (CONTRACT "Command line")."""
import logging

# 14.11: Alembic announces every plugin it sets up (and its context) at INFO; commands print only what
# they did ("database schema is up to date"). Alembic's warnings and errors still show.
QUIET_LOGGERS = {"alembic": logging.WARNING}


def register_cli(app) -> None:
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    from . import db_cmd, demo_cmd, jobs_cmd, sim_cmd, users_cmd

    for module in (db_cmd, users_cmd, demo_cmd, sim_cmd, jobs_cmd):
        app.cli.add_command(module.group)

    from . import register_cmd  # the caution register's CSV import and export (issue 5)
    app.cli.add_command(register_cmd.group)
