"""Users of an account (the people who sign in): the User type."""
