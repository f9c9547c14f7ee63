"""All models, importable from one place (Alembic autogenerate needs them all loaded)."""
from .assembly import AgendaItem, AssemblySession, Ballot, DecisionRule, ItemStatus, Vote, VoteChange
from .appointments import Invitation, SeatNomination
from .audit import AuditAction, AuditEntry, AuditVia
from .base import Base, UTCDateTime, happening_at, utcnow
from .console import ConsoleSession, ConsoleSignIn
from .conversation import ConversationState, ProcessedEvent
from .delivery import OutboxMessage, OutboxStatus, Priority
from .groups import BoundGroup
from .geography import Province, ProvinceGroup, Region, StrategicIssue
from .members import Member, Role, RoleGrant, ScopeKind
from .organizations import Organization, OrgStatus, organization_issues
from .meetings import MeetingNotice, MeetingRecipient, NoticeStatus, RsvpAnswer
from .reports import ActivityReport, ActivityType, BudgetSource, MemberPreference, PhotoStatus, ReportPhoto
from .rollups import OrgDailyRollup, ReportDailyRollup
from .totals import ActivityDayTotal

__all__ = [
    "AgendaItem", "AssemblySession", "Ballot", "DecisionRule", "ItemStatus", "Vote", "VoteChange",
    "Invitation", "SeatNomination",
    "AuditAction", "AuditEntry", "AuditVia",
    "Base", "UTCDateTime", "happening_at", "utcnow",
    "ConsoleSession", "ConsoleSignIn",
    "ConversationState", "ProcessedEvent",
    "OutboxMessage", "OutboxStatus", "Priority",
    "Province", "ProvinceGroup", "Region", "StrategicIssue",
    "Member", "Role", "RoleGrant", "ScopeKind",
    "Organization", "OrgStatus", "organization_issues",
    "BoundGroup", "MeetingNotice", "MeetingRecipient", "NoticeStatus", "RsvpAnswer",
    "ActivityReport", "ActivityType", "BudgetSource", "MemberPreference", "PhotoStatus", "ReportPhoto",
    "OrgDailyRollup", "ReportDailyRollup",
    "ActivityDayTotal",
]
