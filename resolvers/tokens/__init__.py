"""API tokens: the ApiToken type, the mutations that create and delete tokens, and the store that issues them."""
