"""Products (Countly's apps, GoatCounter's sites): the Product type with its connections and analytics, and
the product mutations.
"""
