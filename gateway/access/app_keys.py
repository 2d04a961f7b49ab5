"""Product write keys (Countly's `app_key`): the one product a key opens, remembered for a few seconds."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.access.principal import Permission, Principal
from gateway.access.remembered import Remembered
from gateway.db.pool import Database
from gateway.input_values import is_clean


@dataclass(frozen=True)
class AppKeyProduct:
    """What an app key opens: a product to write to, whether it accepts data, and whether the key alone may
    read its analytics (only when the product is public: app keys ship inside apps and web pages)."""

    principal: Principal
    product_id: int
    status: str
    public: bool = False

    @property
    def reader(self) -> Principal | None:
        """The principal that reads the product with the key alone: None unless the product is public."""
        if not self.public:
            return None
        return Principal(
            account_id=self.principal.account_id,
            permissions=frozenset({Permission.READ}),
            product_id=self.product_id,
        )


# app key -> what it opens: SDKs send the key with every request; pausing a product takes effect within the TTL
_app_keys: Remembered[AppKeyProduct] = Remembered(ttl=5.0, unknown_ttl=1.0)


async def product_for_app_key(db: Database, app_key: str) -> AppKeyProduct | None:
    """Access to the one product an app key names: legacy SDKs write, and old readers read, with it alone."""
    if (
        not app_key or len(app_key) > 512 or not is_clean(app_key)
    ):  # PostgreSQL's text cannot hold it: unknown
        return None
    known, found = _app_keys.recall(app_key)
    return found if known else _app_keys.keep(app_key, await _lookup_app_key(db, app_key))


def forget_app_keys() -> None:
    """Empty the app key cache (after a product's key or status changed in this process)."""
    _app_keys.clear()


async def _lookup_app_key(db: Database, app_key: str) -> AppKeyProduct | None:
    row = await db.fetchrow("SELECT id, account_id, status, public FROM products WHERE app_key = $1", app_key)
    if row is None:
        return None
    principal = Principal(
        account_id=row["account_id"],
        permissions=frozenset({Permission.READ, Permission.WRITE}),
        product_id=row["id"],
    )
    return AppKeyProduct(
        principal=principal, product_id=row["id"], status=row["status"], public=row["public"]
    )
