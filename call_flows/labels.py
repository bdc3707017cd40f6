"""What people read for the codes the service keeps (issue 14.6). One table per vocabulary; pages,
flash messages and emails show these labels, the API keeps the codes.

`label(vocabulary, code)` answers the label, or the code with underscores as spaces for a code the
table does not know (a new code never breaks a page). The incident record's field labels
are here too (`incident_records.LABELS` is this table). The codes of `call_flows.vocabulary` are the
keys of their tables here (a test checks every member has its label).
"""
from typing import Any

from call_flows.vocabulary import (CallbackOutcome, CallStatus, ImmediateReason, IncidentStatus, Marker, NoteField,
                                   PlayStatus, Recipient, RegisterSource, RegisterStatus, Role, TaskStatus,
                                   WarningReason)

INCIDENT_FIELDS = {"incident_date": "Date", "incident_time": "Time", "location": "Location",
                   "details": "Details of the incident",
                   "action_taken": "Action taken (including support for the staff member)",
                   "staff_involved": "Staff involved",
                   "reported_to": "Reported to", "comments": "Comments", "welfare_note": "Welfare note",
                   "riddor_reportable": "RIDDOR-reportable", "security_breach": "Security or data breach",
                   "welfare_spoke_with_staff": "Spoke with the staff member",
                   "welfare_support_offered": "Reminded them of support (EAP, union, staff contact officers)",
                   "welfare_time_given": "Gave them time"}  # I1, I3
WARNING_REASONS = {WarningReason.ABUSE: "Abuse", WarningReason.THREATS: "Threats",
                   WarningReason.DISCRIMINATION: "Discriminatory abuse",
                   WarningReason.INTIMIDATING_LANGUAGE: "Intimidating language (swearing)",
                   WarningReason.ACOUSTIC_SHOCK: "Acoustic shock (screaming, loud noises)",
                   WarningReason.OTHER: "Other"}  # T1
IMMEDIATE_REASONS = {ImmediateReason.THREAT_OF_VIOLENCE: "Threat of violence",
                     ImmediateReason.OTHER_SERIOUS: "Other serious reason"}  # T3
CALLBACK_OUTCOMES = {CallbackOutcome.RESOLVED: "Resolved",
                     CallbackOutcome.BEHAVIOUR_NOT_IMPROVED: "Behaviour not improved",
                     CallbackOutcome.NO_ANSWER: "No answer",
                     CallbackOutcome.UNREACHABLE: "Unreachable after every attempt",
                     CallbackOutcome.CANCELLED: "Cancelled"}  # M1, M2
NOTE_FIELDS = {NoteField.SPOKE_TO: "Who you spoke to", NoteField.QUERY: "The query",
               NoteField.TOLD_CUSTOMER: "What you told the customer",
               NoteField.CUSTOMER_SAID_OR_DID: "What the customer said or did"}  # T4, M1, M2
MARKERS: dict[int, str] = {Marker.VIOLENT: "Violent", Marker.POTENTIALLY_VIOLENT: "Potentially violent / threatening aggression",
           Marker.ABUSIVE: "Abusive"}  # R2, in DOMAIN.md's words
CALL_STATUSES = {CallStatus.QUEUED: "Queued", CallStatus.INITIATED: "Dialling", CallStatus.RINGING: "Ringing",
                 CallStatus.IN_PROGRESS: "In progress", CallStatus.COMPLETED: "Completed", CallStatus.BUSY: "Busy",
                 CallStatus.FAILED: "Failed", CallStatus.NO_ANSWER: "No answer",
                 CallStatus.CANCELED: "Cancelled before it was answered"}
PLAY_STATUSES: dict[str, str] = {PlayStatus.PENDING: "not yet played", PlayStatus.PLAYED: "played to the caller",
                 PlayStatus.CALLER_LEFT: "not played: the caller had already gone",
                 PlayStatus.FAILED: "could not be played"}  # T1, T3: a notice to the caller
POLICE_DECISIONS = {"police_informed": "Police informed", "police_not_needed": "Police not needed"}  # I7
RECIPIENTS = {Recipient.HR_SERVICE_CENTRE: "HR service centre",
              Recipient.EQUALITY_DIVERSITY: "Equality and Diversity team",
              Recipient.UNION_HS_REPS: "Union health and safety representatives",
              Recipient.SECURITY_DESK: "Security help desk", Recipient.AREA_MANAGER: "Area manager",
              Recipient.SENIOR_OFFICER: "Senior officer",
              Recipient.SENIOR_OFFICER_NEXT_LEVEL: "The senior officer's next level (Grade 7)",
              Recipient.LINE_MANAGER: "Line manager", Recipient.MANAGER: "Line manager",
              Recipient.SUPERVISOR: "Supervisor", Recipient.REVIEW_PANEL: "Review panel"}  # I4, I5, I7
EMAIL_PURPOSES = {"distribution": "Completed record (I4)", "escalation_i5": "Not picked up within the window (I5)",
                  "serious_i7": "Serious incident (I7)", "serious_i7_decision": "Decision about the police (I7)",
                  "overdue": "Overdue callback", "retry_due": "Callback retry due", "new_callback": "New callback",
                  "register_reminder": "Register reminder", "team_lead_alert": "Check on a colleague"}
RESTRICTION_KINDS = {"named_officer": "Contact with one named officer", "set_hours": "Contact at set times",
                     "written_only": "Written contact only"}  # C1
SIGNALS = {"repeat_warnings": "Repeat warnings", "previous_termination": "Previously terminated",
           "many_calls_today": "Many calls today"}  # R10, C2
ROLES = {Role.CALL_HANDLER: "Call handler", Role.LINE_MANAGER: "Line manager", Role.SUPERVISOR: "Supervisor",
         Role.PANEL_MEMBER: "Review panel member", Role.ADMIN: "Administrator"}
REGISTER_SOURCES = {RegisterSource.OWN: "Our own register", RegisterSource.PARTNER: "Partner's register"}  # R4, R6
REGISTER_STATUSES = {RegisterStatus.PROPOSED: "Proposed to the panel",
                     RegisterStatus.AWAITING_NOTICE: "Decided, awaiting the letter",
                     RegisterStatus.IN_FORCE: "In force", RegisterStatus.REJECTED: "Rejected",
                     RegisterStatus.REMOVED: "Removed", RegisterStatus.EXPIRED: "Expired"}  # R3-R6
TASK_STATUSES = {TaskStatus.OPEN: "Open", TaskStatus.CLAIMED: "Claimed", TaskStatus.CLOSED: "Closed",
                 TaskStatus.CANCELLED: "Cancelled"}  # M1
INCIDENT_STATUSES = {IncidentStatus.OPEN: "Open", IncidentStatus.COMPLETED: "Completed"}  # I1-I4
END_REASONS = {"panel_rejected": "Panel rejected it", "review": "Removed at review", "expiry": "Reached its expiry",
               "appeal_upheld": "Appeal upheld"}  # R6, R8
EXEMPTIONS = {"risk_of_violence": "Telling them would create a substantial risk of violence",
              "address_unknown": "Address unknown"}  # R5
CHANNELS = {"letter": "Letter", "phone": "Phone", "email": "Email", "in_person": "In person"}  # C1
PANEL_OUTCOMES = {"add": "Added to the register", "reject": "Not added", "keep": "Kept on the register",
                  "remove": "Removed from the register", "upheld": "Upheld: entry removed",
                  "dismissed": "Dismissed: entry stays", "completed": "Completed"}  # R3, R6, R8
REMINDERS = {"review_due": "Entry review due", "register_review_due": "Register review due",
             "letter_overdue": "Letter overdue", "meeting_overdue": "Panel meeting overdue"}  # R3, R5, R6

VOCABULARIES: dict[str, dict[Any, str]] = {"warning_reason": WARNING_REASONS, "immediate_reason": IMMEDIATE_REASONS,
                "reason": {**WARNING_REASONS, **IMMEDIATE_REASONS}, "outcome": CALLBACK_OUTCOMES,
                "note_field": NOTE_FIELDS, "incident_field": INCIDENT_FIELDS, "marker": MARKERS,
                "call_status": CALL_STATUSES, "play_status": PLAY_STATUSES,
                "task_status": TASK_STATUSES, "incident_status": INCIDENT_STATUSES,
                "police_decision": POLICE_DECISIONS, "recipient": RECIPIENTS, "email_purpose": EMAIL_PURPOSES,
                "restriction": RESTRICTION_KINDS,
                "signal": SIGNALS, "role": ROLES, "register_source": REGISTER_SOURCES,
                "register_status": REGISTER_STATUSES, "end_reason": END_REASONS, "exemption": EXEMPTIONS,
                "channel": CHANNELS, "reminder": REMINDERS, "panel_outcome": PANEL_OUTCOMES}


def label(vocabulary: str, code: str | None) -> str:
    """The label people read for `code` in `vocabulary` (a key of VOCABULARIES); KeyError for an
    unknown vocabulary, the code with spaces for an unknown code, "" for None."""
    if code is None:
        return ""
    table = VOCABULARIES[vocabulary]
    return table.get(code) or str(code).replace("_", " ")


def note_text(fields: dict[str, Any]) -> str:
    """A case note's staff-written fields as one line people read: "What you told the customer: ...; ..."."""
    return "; ".join(f"{label('note_field', k)}: {v}" for k, v in fields.items())
