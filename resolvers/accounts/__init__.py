"""Accounts (the tenants): the Account type, its mutations (create, update, delete, login) and the store
that creates an account with its admin user and checks logins and their failure counts.
"""
