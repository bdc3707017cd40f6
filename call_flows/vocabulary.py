"""The codes the service keeps, defined once (issue 11.3). Each is a `StrEnum` whose values are the
exact text stored in the database and sent by the API (a member compares equal to its text), so
no migration follows from using them. What people read for each code is in `call_flows.labels`,
one table per vocabulary here; the groups of members used for access and state are defined here
and nowhere else.
"""
from enum import IntEnum, StrEnum


class CallStatus(StrEnum):
    """A call's status: Twilio's CallStatus values (status callbacks), kept as Twilio spells them."""

    QUEUED = "queued"
    INITIATED = "initiated"
    RINGING = "ringing"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    BUSY = "busy"
    FAILED = "failed"
    NO_ANSWER = "no-answer"
    CANCELED = "canceled"


# Twilio's final statuses: a call in one of these is over and no act may be taken on it (CONTRACT
# `call_ended`). A call ended for behaviour (T3) keeps its platform status and is over by its
# termination row; see calls.status.why_ended.
ENDED = (CallStatus.COMPLETED, CallStatus.BUSY, CallStatus.FAILED, CallStatus.NO_ANSWER, CallStatus.CANCELED)
OPEN = (CallStatus.QUEUED, CallStatus.INITIATED, CallStatus.RINGING, CallStatus.IN_PROGRESS)
WAITING = (CallStatus.RINGING, CallStatus.QUEUED)  # not yet answered: the console's and board's ringing cards
BEFORE_ANSWER = (CallStatus.QUEUED, CallStatus.INITIATED)  # a placed leg not yet reported answered
LIVE = (CallStatus.RINGING, CallStatus.QUEUED, CallStatus.IN_PROGRESS)  # on the board (not "initiated": ours)


class Role(StrEnum):
    """A staff member's role (`users.role`); access is granted to the groups below."""

    CALL_HANDLER = "call_handler"
    LINE_MANAGER = "line_manager"
    SUPERVISOR = "supervisor"
    PANEL_MEMBER = "panel_member"
    ADMIN = "admin"


ROLES = tuple(Role)
CALL_ROLES = (Role.CALL_HANDLER, Role.LINE_MANAGER, Role.SUPERVISOR)  # take part in a live call (T1-T4)
PANEL = (Role.PANEL_MEMBER,)  # sits on the review panel (R3)
PANEL_ROLES = (Role.PANEL_MEMBER, Role.ADMIN)  # keeps the register (R3-R8)
REGISTER_READERS = (Role.PANEL_MEMBER, Role.LINE_MANAGER, Role.SUPERVISOR, Role.ADMIN)  # R9: all but handlers
MANAGERS = (Role.LINE_MANAGER, Role.ADMIN)  # propose entries, record contact with customers
OVERSEERS = (Role.LINE_MANAGER, Role.SUPERVISOR, Role.ADMIN)  # call history, trends
SENIORS = (Role.SUPERVISOR, Role.ADMIN)  # serious incidents (I7)
SEES_RINGING = (Role.CALL_HANDLER, Role.SUPERVISOR, Role.ADMIN)  # the console and the board show every ringing call


class WarningReason(StrEnum):
    """Why a handler warned a caller (T1), and the reason recorded with a termination."""

    ABUSE = "abuse"
    THREATS = "threats"
    DISCRIMINATION = "discrimination"
    INTIMIDATING_LANGUAGE = "intimidating_language"
    ACOUSTIC_SHOCK = "acoustic_shock"
    OTHER = "other"


class ImmediateReason(StrEnum):
    """T3's exception: why a call was ended without a warning first."""

    THREAT_OF_VIOLENCE = "threat_of_violence"  # I7: a serious incident
    OTHER_SERIOUS = "other_serious"


class Marker(IntEnum):
    """R2's marker score on a register entry (stored as its number)."""

    VIOLENT = 1
    POTENTIALLY_VIOLENT = 2
    ABUSIVE = 3


class CallbackOutcome(StrEnum):
    """How a callback task closed (M1, M2); staff record the first three, the service the last two."""

    RESOLVED = "resolved"
    BEHAVIOUR_NOT_IMPROVED = "behaviour_not_improved"
    NO_ANSWER = "no_answer"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"


RECORDED_OUTCOMES = (CallbackOutcome.RESOLVED, CallbackOutcome.BEHAVIOUR_NOT_IMPROVED, CallbackOutcome.NO_ANSWER)


class NoteField(StrEnum):
    """The fields of a case note that staff write (T4, M1, M2)."""

    SPOKE_TO = "spoke_to"
    QUERY = "query"
    TOLD_CUSTOMER = "told_customer"
    CUSTOMER_SAID_OR_DID = "customer_said_or_did"


class PlayStatus(StrEnum):
    """What became of a warning or termination notice sent to the caller's leg (T1, T3)."""

    PENDING = "pending"
    PLAYED = "played"
    CALLER_LEFT = "caller_left"
    FAILED = "failed"


SETTLED = (PlayStatus.PLAYED, PlayStatus.CALLER_LEFT, PlayStatus.FAILED)  # nothing more will be tried
REACHED = (PlayStatus.PLAYED, PlayStatus.CALLER_LEFT)  # the notice went to the call (or found it gone)


class IncidentStatus(StrEnum):
    """An incident record's state (I1-I4): open until completed and distributed."""

    OPEN = "open"
    COMPLETED = "completed"


class RegisterStatus(StrEnum):
    """Where a caution register entry stands (R3-R8)."""

    PROPOSED = "proposed"  # waiting for the panel (R3)
    AWAITING_NOTICE = "awaiting_notice"  # decided; takes effect once the customer is told (R5)
    IN_FORCE = "in_force"
    REJECTED = "rejected"
    REMOVED = "removed"  # at review (R6) or on appeal (R8)
    EXPIRED = "expired"  # R6


OPEN_ENTRIES = (RegisterStatus.PROPOSED, RegisterStatus.AWAITING_NOTICE, RegisterStatus.IN_FORCE)
DECIDED_ENTRIES = (RegisterStatus.AWAITING_NOTICE, RegisterStatus.IN_FORCE)  # the panel added it (R3)
ENDED_ENTRIES = (RegisterStatus.REJECTED, RegisterStatus.EXPIRED, RegisterStatus.REMOVED)


class RegisterSource(StrEnum):
    """Whose register an entry comes from: ours, or a partner's (R4; R6: a partner's lasts a year)."""

    OWN = "own"
    PARTNER = "partner"


class TaskStatus(StrEnum):
    """A callback task's state (M1): open, claimed by a manager, then closed or cancelled."""

    OPEN = "open"
    CLAIMED = "claimed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN_TASKS = (TaskStatus.OPEN, TaskStatus.CLAIMED)
CLOSED_TASKS = (TaskStatus.CLOSED, TaskStatus.CANCELLED)


class Recipient(StrEnum):
    """Who an email is for (`email_deliveries.recipient`; I4, I5, I7, R3-R6, M1)."""

    HR_SERVICE_CENTRE = "hr_service_centre"
    EQUALITY_DIVERSITY = "equality_diversity"
    UNION_HS_REPS = "union_hs_reps"
    SECURITY_DESK = "security_desk"
    AREA_MANAGER = "area_manager"
    SENIOR_OFFICER = "senior_officer"
    SENIOR_OFFICER_NEXT_LEVEL = "senior_officer_next_level"
    LINE_MANAGER = "line_manager"
    MANAGER = "manager"
    SUPERVISOR = "supervisor"
    REVIEW_PANEL = "review_panel"
