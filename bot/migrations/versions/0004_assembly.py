"""assembly: sessions, agenda items, ballots (eligibility + turnout), votes (choices), vote changes (audit)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 10:46:05.208697
"""
from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import bot.models.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('assembly_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['members.id'], name=op.f('fk_assembly_sessions_created_by_id_members'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assembly_sessions'))
    )
    op.create_table('agenda_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('custom_options', sa.JSON(), nullable=True),
    sa.Column('abstain_index', sa.Integer(), nullable=True),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('quorum_percent', sa.Integer(), nullable=False),
    sa.Column('rule', sa.Enum('majority', 'two_thirds', name='decision_rule', native_enum=False, length=16), nullable=False),
    sa.Column('opens_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('allow_change', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('scheduled', 'open', 'closed', 'withdrawn', name='item_status', native_enum=False, length=16), nullable=False),
    sa.Column('opened_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('eligible_count', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('closes_at > opens_at', name=op.f('ck_agenda_items_window_order')),
    sa.CheckConstraint('quorum_percent >= 0 AND quorum_percent < 100', name=op.f('ck_agenda_items_quorum_range')),
    sa.ForeignKeyConstraint(['created_by_id'], ['members.id'], name=op.f('fk_agenda_items_created_by_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['session_id'], ['assembly_sessions.id'], name=op.f('fk_agenda_items_session_id_assembly_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_items')),
    sa.UniqueConstraint('token', name=op.f('uq_agenda_items_token'))
    )
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_items_session_id'), ['session_id'], unique=False)
        batch_op.create_index('ix_agenda_items_status_closes', ['status', 'closes_at'], unique=False)
        batch_op.create_index('ix_agenda_items_status_opens', ['status', 'opens_at'], unique=False)

    op.create_table('ballots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('voted_at', bot.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('changes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['agenda_items.id'], name=op.f('fk_ballots_item_id_agenda_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_ballots_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_ballots_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballots')),
    sa.UniqueConstraint('item_id', 'member_id', name=op.f('uq_ballots_item_id_member_id'))
    )
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballots_member_id'), ['member_id'], unique=False)

    op.create_table('vote_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('secret', sa.Boolean(), nullable=False),
    sa.Column('from_option', sa.Integer(), nullable=True),
    sa.Column('to_option', sa.Integer(), nullable=True),
    sa.Column('changed_at', bot.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('secret = false OR (from_option IS NULL AND to_option IS NULL)', name=op.f('ck_vote_changes_secret_no_choice')),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_vote_changes_ballot_id_ballots'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['item_id'], ['agenda_items.id'], name=op.f('fk_vote_changes_item_id_agenda_items'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vote_changes'))
    )
    with op.batch_alter_table('vote_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_vote_changes_item_id'), ['item_id'], unique=False)

    op.create_table('votes',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=True),
    sa.Column('option_index', sa.Integer(), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballots.id'], name=op.f('fk_votes_ballot_id_ballots'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['agenda_items.id'], name=op.f('fk_votes_item_id_agenda_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], name=op.f('fk_votes_region_id_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_votes')),
    sa.UniqueConstraint('ballot_id', name=op.f('uq_votes_ballot_id'))
    )
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.create_index('ix_votes_item_option', ['item_id', 'option_index'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('votes', schema=None) as batch_op:
        batch_op.drop_index('ix_votes_item_option')

    op.drop_table('votes')
    with op.batch_alter_table('vote_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_vote_changes_item_id'))

    op.drop_table('vote_changes')
    with op.batch_alter_table('ballots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ballots_member_id'))

    op.drop_table('ballots')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_index('ix_agenda_items_status_opens')
        batch_op.drop_index('ix_agenda_items_status_closes')
        batch_op.drop_index(batch_op.f('ix_agenda_items_session_id'))

    op.drop_table('agenda_items')
    op.drop_table('assembly_sessions')
