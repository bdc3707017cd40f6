"""Admin pages for importing the caution register from CSV and exporting it (CONTRACT `register import`).

Why a run page that polls: a long file is checked and stored by an outbox job (in an RQ worker when
Redis is configured), so the upload answers at once and the page follows the run's progress; every
bad row is listed as `line N: reason` and nothing is stored until the whole file is good.
"""
from flask import Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from pydantic import BaseModel
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from call_flows.register import import_run as register_import_run
from call_flows.clock import utcnow
from call_flows.errors import InvalidInput
from call_flows.models.imports import RegisterImportRun
from call_flows.register.export import audit_export, csv_lines, in_force_rows
from call_flows.register.spreadsheet import COLUMNS
from call_flows.vocabulary import PANEL_ROLES as EXPORT_ROLES, Role  # the panel keeps the register (R3)

from ..auth import current_staff
from ..db import db_session, unit_of_work
from ..forms import Checkbox, form_body
from . import bp
from .live import page_roles

IMPORT_ROLES = (Role.ADMIN,)


class ImportOptions(BaseModel):
    """The upload form beside its file: a dry run checks every row and stores nothing."""

    dry_run: Checkbox = False


def _upload_page(error: str | None = None, status: int = 200):
    runs = db_session().scalars(select(RegisterImportRun).order_by(RegisterImportRun.id.desc()).limit(10)).all()
    return render_template("register_import/upload.html", error=error, runs=runs, columns=COLUMNS,
                           max_mb=register_import_run.MAX_BYTES // (1024 * 1024)), status


@bp.get("/admin/register/import")
@page_roles(*IMPORT_ROLES)
def register_import_form():
    return _upload_page()


@bp.post("/admin/register/import")
@page_roles(*IMPORT_ROLES)
def register_import_upload():
    request.max_content_length = register_import_run.MAX_BYTES + 64 * 1024  # the file plus the form around it
    try:
        upload = request.files.get("file")
    except RequestEntityTooLarge:
        return _upload_page(f"The file is larger than {register_import_run.MAX_BYTES // (1024 * 1024)} MB: "
                            "split it and import each part.", 413)
    if upload is None or not upload.filename:
        return _upload_page("Choose a CSV file to import.", 400)
    data = upload.stream.read(register_import_run.MAX_BYTES + 1)
    try:
        with unit_of_work() as uow:  # a refusal rolls back
            run = register_import_run.start(uow.session, upload.filename, data, current_staff().id,
                                            current_app.config["DEFAULT_REGION"], utcnow(),
                                            dry_run=form_body(ImportOptions).dry_run)
            uow.commit()  # embedded default: the import runs now, in this process
    except InvalidInput as exc:
        return _upload_page(exc.message[:1].upper() + exc.message[1:] + ".", 400)
    return redirect(url_for("pages.register_import_run_page", run_id=run.id), 303)


def _run(run_id: int) -> RegisterImportRun:
    run = db_session().get(RegisterImportRun, run_id)
    if run is None:
        abort(404)
    return run


def _progress(run: RegisterImportRun) -> dict:
    """What the run page shows and polls: status, percent, counts, `errors` the number of bad rows."""
    return {"id": run.id, "status": run.status, "percent": run.percent, "finished": register_import_run.finished(run),
            "dry_run": run.dry_run, "rows": run.rows, "entries": run.entries, "numbers": run.numbers,
            "errors": len(run.errors or [])}


@bp.get("/admin/register/import/<int:run_id>")
@page_roles(*IMPORT_ROLES)
def register_import_run_page(run_id: int):
    run = _run(run_id)
    return render_template("register_import/run.html", run=run, state=_progress(run))


@bp.get("/admin/register/import/<int:run_id>/progress")
@page_roles(*IMPORT_ROLES)
def register_import_progress(run_id: int):
    response = jsonify(_progress(_run(run_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/admin/register/export.csv")
@page_roles(*EXPORT_ROLES)
def register_export():
    """The entries in force, in the import's columns; each entry's export is audited (R9)."""
    now = utcnow()
    with unit_of_work() as uow:
        rows, ids = in_force_rows(uow.session, now)
        audit_export(uow.session, ids, now, current_staff().id)  # R9
        uow.commit()
    body = "\ufeff" + "".join(csv_lines(rows))  # the BOM lets Excel read UTF-8
    filename = f"callguard-register-{now.date().isoformat()}.csv"
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff"})
