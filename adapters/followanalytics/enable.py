"""The login reply's `enable` flags: what the token's rights let it do on this gateway.

Read rights open the analytics the gateway serves (apps, usage analytics, segments, downloads: exports);
write rights open writes (segments, systems of records: attribute sync); admin opens apps, API keys and GDPR
requests. Campaigns, in-app messages, push certificates, A/B tests, funnels, crashes and comments are not
features of this gateway: those flags are false for every token.
"""

from __future__ import annotations

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
# flag -> the permission (the graph's `viewer.permissions`) that grants it
GRANTED_BY = {
    "apps": "read",
    "downloads": "read",
    "usage_analytics_view": "read",
    "segments_view": "read",
    "usage_analytics_manage": "write",
    "segments_manage": "write",
    "sor_manage": "write",
    "apps_manage": "admin",
    "api_keys_manage": "admin",
    "gdpr_data_manage": "admin",
}


def flags(permissions: set[str]) -> dict[str, bool]:
    """Every documented flag, in the documented order, true when the token's permissions grant it."""
    return {flag: GRANTED_BY.get(flag) in permissions for flag in FLAGS}
