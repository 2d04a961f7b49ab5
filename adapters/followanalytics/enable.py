"""The login reply's `enable` flags: what the token's rights and product scope let it do on this gateway.

Each flag the gateway has a feature for is granted by the rights that feature's requests need here (the graph's
permissions, `gateway/access/principal.py`, fine-grained ones included), so a flag is true exactly when the
token can do what it names:

- `apps`: list the apps (READ_PRODUCTS); `apps_manage`: create or change apps (CREATE_PRODUCTS or
  UPDATE_PRODUCTS);
- `usage_analytics_view`: read analytics figures (STATS); `usage_analytics_manage`: change how events and
  attributes are shown (WRITE);
- `downloads`: the exports and their download URLs (EXPORT);
- `segments_view`: segments and the people data lists (events, sessions, devices, customer profiles: READ);
  `segments_manage`: create, change and delete segments (WRITE);
- `sor_manage`: sync attribute values of systems of records with the token (COUNT, to write them, and READ, to
  find the apps that know each customer);
- `api_keys_manage`: API tokens (ADMIN); `gdpr_data_manage`: GDPR access and deletion requests (ADMIN).

A token limited to some apps keeps its flags for those apps (its requests reach no other app); one limited to no
app at all can do nothing with app data, so its data flags are false. Campaigns, in-app messages, push
certificates, A/B tests, funnels, crashes and comments are not features of this gateway: those flags are false
for every token.
"""

from __future__ import annotations

from gateway.access.principal import Permission, Principal

FLAGS = (
    "apps",
    "campaign_view",
    "campaign_draft",
    "campaign_publish",
    "inapp_library_manage",
    "transactional_campaigns",
    "ab_testing",
    "dynamic_campaigns",
    "web_inbox",
    "comments",
    "downloads",
    "usage_analytics_view",
    "usage_analytics_manage",
    "crashes_view",
    "crashes_manage",
    "funnels_view",
    "funnels_manage",
    "segments_view",
    "segments_manage",
    "sor_manage",
    "apps_manage",
    "api_keys_manage",
    "push_certificates_manage",
    "gdpr_data_manage",
)


# flag -> the permissions it needs, all of them: the routes of what it names check the same ones (routes.py)
NEEDS: dict[str, tuple[Permission, ...]] = {
    "apps": (Permission.READ_PRODUCTS,),
    "downloads": (Permission.EXPORT,),
    "usage_analytics_view": (Permission.STATS,),
    "usage_analytics_manage": (Permission.WRITE,),
    "segments_view": (Permission.READ,),
    "segments_manage": (Permission.WRITE,),
    "sor_manage": (Permission.COUNT, Permission.READ),
    "api_keys_manage": (Permission.ADMIN,),
    "gdpr_data_manage": (Permission.ADMIN,),
}
# flag -> permissions of which it needs one
NEEDS_ONE: dict[str, tuple[Permission, ...]] = {
    "apps_manage": (Permission.CREATE_PRODUCTS, Permission.UPDATE_PRODUCTS),
}
# flags that need no app of the token's scope (what they name is the account's)
ACCOUNT_FLAGS = frozenset({"apps_manage", "api_keys_manage"})


def granted(principal: Principal, flag: str) -> bool:
    """Whether the token's rights and scope let it do what `flag` names."""
    if principal.product_scope == () and flag not in ACCOUNT_FLAGS:
        return False  # limited to no app: nothing to do with app data
    if flag in NEEDS:
        return all(principal.can(p) for p in NEEDS[flag])
    return flag in NEEDS_ONE and principal.can_any(NEEDS_ONE[flag])


def flags(principal: Principal) -> dict[str, bool]:
    """Every documented flag, in the documented order, true when the token's rights and scope grant it."""
    return {flag: granted(principal, flag) for flag in FLAGS}


def is_admin(principal: Principal) -> bool:
    """The user object's `admin`: the token administers the whole entity (ADMIN, limited to no app)."""
    return principal.can(Permission.ADMIN) and principal.product_scope is None
