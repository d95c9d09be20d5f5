"""A key's callback settings: checked where they are configured, and the prefixes cases may use."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from core.errors import InvalidInput
from core.sealed_secrets import SecretBox
from core.store import identity
from core.store.db import Database

BOX = SecretBox(Fernet.generate_key(), "TRIAGE_SECRET_KEY")


@pytest.mark.parametrize(
    ("config", "field", "problem"),
    [
        (
            identity.CallbackConfig("http://127.0.0.1:8080/hooks", "whsec_x"),
            "callback_url",
            "loopback",
        ),
        (identity.CallbackConfig("http://localhost/hooks", "whsec_x"), "callback_url", "loopback"),
        (identity.CallbackConfig("http://10.2.3.4/hooks", "whsec_x"), "callback_url", "private"),
        (
            identity.CallbackConfig(
                "https://93.184.216.34/hooks", "whsec_x", ["http://169.254.169.254/"]
            ),
            "callback_allowed",
            "link-local",
        ),
        (identity.CallbackConfig("ftp://93.184.216.34/x", "whsec_x"), "callback_url", "http"),
    ],
)
async def test_a_private_or_malformed_target_is_refused_where_it_is_configured(
    database_url: str, config: identity.CallbackConfig, field: str, problem: str
) -> None:
    """Without the opt-in, set_callback names the field and the reason; with it, it is stored."""
    db = Database(database_url)
    db.migrate(BOX)
    try:
        async with db.transaction() as conn:
            await identity.create_key(conn, "wms", "trg_wms")
        with pytest.raises(InvalidInput) as refused:
            async with db.transaction() as conn:
                await identity.set_callback(conn, "wms", config, BOX)
        assert refused.value.field == field
        assert problem in refused.value.message
        async with db.transaction() as conn:
            assert (await identity.callback_of(conn, "api_key:wms")).url is None  # type: ignore[union-attr]
        if problem == "http":
            return  # a malformed URL stays refused with the opt-in too
        async with db.transaction() as conn:
            await identity.set_callback(conn, "wms", config, BOX, allow_private=True)
            target = await identity.callback_of(conn, "api_key:wms")
        assert target is not None
        assert target.url == config.url
    finally:
        await db.dispose()


async def test_cases_may_name_urls_under_the_key_s_prefixes_only(db: Database) -> None:
    """Default: the callback URL's origin; configured prefixes replace it."""
    secret = identity.new_callback_secret()
    async with db.transaction() as conn:
        await identity.create_key(
            conn,
            "wms",
            "trg_wms",
            callback=identity.CallbackConfig("https://93.184.216.34/h", secret),
            box=BOX,
        )
        await identity.check_case_callback(conn, "api_key:wms", "https://93.184.216.34/other")
        with pytest.raises(InvalidInput, match=r"https://93\.184\.216\.34") as refused:
            await identity.check_case_callback(conn, "api_key:wms", "https://93.184.216.35/h")
        assert refused.value.field == "callback_url"
        allowed = identity.CallbackConfig(
            "https://93.184.216.34/h", secret, ["https://93.184.216.34/cases/"]
        )
        await identity.set_callback(conn, "wms", allowed, BOX)
        await identity.check_case_callback(conn, "api_key:wms", "https://93.184.216.34/cases/7")
        with pytest.raises(InvalidInput, match="cases/"):
            await identity.check_case_callback(conn, "api_key:wms", "https://93.184.216.34/other")
        with pytest.raises(InvalidInput, match="has none"):
            await identity.check_case_callback(
                conn, "person:alice", "https://93.184.216.34/cases/7"
            )
