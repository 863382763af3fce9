"""The funded trader's lifecycle: checkout -> automation bus -> contract -> provisioning -> payouts.

Every hop keeps its state in Postgres before it moves on, so a restart resumes where it stopped and
no hop is ever done twice (see service.py for the loops, routes.py for the HTTP surface).
"""
