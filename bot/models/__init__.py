"""All models, importable from one place (Alembic autogenerate needs them all loaded)."""
from .base import Base, UTCDateTime, utcnow
from .conversation import ConversationState, ProcessedEvent
from .delivery import OutboxMessage, OutboxStatus, Priority
from .geography import Province, ProvinceGroup, Region, StrategicIssue
from .members import Member, Role, RoleGrant, ScopeKind
from .organizations import Organization, OrgStatus, organization_issues

__all__ = [
    "Base", "UTCDateTime", "utcnow",
    "ConversationState", "ProcessedEvent",
    "OutboxMessage", "OutboxStatus", "Priority",
    "Province", "ProvinceGroup", "Region", "StrategicIssue",
    "Member", "Role", "RoleGrant", "ScopeKind",
    "Organization", "OrgStatus", "organization_issues",
]
