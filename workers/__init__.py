"""RQ jobs and worker setup. Jobs take ids, open a session, call one service and commit."""
