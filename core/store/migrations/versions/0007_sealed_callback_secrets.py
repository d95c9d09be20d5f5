"""sealed callback secrets: callback_secret encrypted at rest, and callback_allowed prefixes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 14:40:00.000000

Plaintext secrets written before this revision are sealed with the server's key, which the
caller of the migration passes as `config.attributes["secret_box"]` (see Database.migrate).
Sealed values carry a prefix, so values already sealed are left alone and sealing twice is
harmless; without a key, plaintext secrets stop the upgrade with an error that says so.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.errors import ConfigurationError
from core.sealed_secrets import is_sealed

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_KEYS = sa.table(
    "api_keys",
    sa.column("key_id", sa.String()),
    sa.column("name", sa.String()),
    sa.column("callback_secret", sa.String()),
)


def upgrade() -> None:
    bind = op.get_bind()
    box = op.get_context().config.attributes.get("secret_box")
    # Checked before any change: SQLite cannot roll back a half-done batch alter.
    _require_box_for(_plaintext(bind), box)
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.alter_column(
            "callback_secret",
            existing_type=sa.String(length=128),
            type_=sa.String(length=512),
            existing_nullable=True,
        )
        batch_op.add_column(sa.Column("callback_allowed", sa.JSON(), nullable=True))
    seal_plaintext_secrets(bind, box)


def _plaintext(bind: sa.Connection) -> list[sa.Row[tuple[str, str, str]]]:
    rows = bind.execute(
        sa.select(_KEYS.c.key_id, _KEYS.c.name, _KEYS.c.callback_secret).where(
            _KEYS.c.callback_secret.is_not(None)
        )
    ).all()
    return [row for row in rows if not is_sealed(row.callback_secret)]


def _require_box_for(plain: list[sa.Row[tuple[str, str, str]]], box: object | None) -> None:
    if plain and box is None:
        names = ", ".join(repr(row.name) for row in plain)
        raise ConfigurationError(
            f"API keys {names} hold plaintext callback secrets and no secret key was given to "
            "seal them; start the service (or run the migration) with TRIAGE_SECRET_KEY set"
        )


def seal_plaintext_secrets(bind: sa.Connection, box: object | None) -> int:
    """Seals every plaintext callback secret (sealed ones are left alone); returns how many."""
    plain = _plaintext(bind)
    _require_box_for(plain, box)
    for row in plain:
        bind.execute(
            sa.update(_KEYS)
            .where(_KEYS.c.key_id == row.key_id)
            .values(callback_secret=box.seal(row.callback_secret))  # type: ignore[union-attr]
        )
    return len(plain)


def downgrade() -> None:
    # Sealed secrets stay sealed, in their wider column: writing them back in plain text would
    # undo the point, and they no longer fit the old width.
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("callback_allowed")
