"""Flask CLI commands (CONTRACT "Command line")."""


def register_cli(app) -> None:
    from . import db_cmd, demo_cmd, jobs_cmd, sim_cmd, users_cmd

    for module in (db_cmd, users_cmd, demo_cmd, sim_cmd, jobs_cmd):
        app.cli.add_command(module.group)
