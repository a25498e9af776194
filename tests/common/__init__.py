"""What the tests share, one module per domain (teams, referrals, surveys, people, mail, web…).

Test modules import from here, never from one another; shared fixtures live in ``conftest.py``.
"""
