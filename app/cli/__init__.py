"""Flask CLI commands (CONTRACT "Command line")."""


def register_cli(app) -> None:
    from . import db_cmd, demo_cmd, jobs_cmd, sim_cmd, users_cmd

    for module in (db_cmd, users_cmd, demo_cmd, sim_cmd, jobs_cmd):
        app.cli.add_command(module.group)

    from . import register_cmd  # the caution register's CSV import and export (issue 5)
    app.cli.add_command(register_cmd.group)
