"""The life of an idea: which status changes are allowed, and who may make them. Pure rules, no storage."""

from __future__ import annotations

from bot.domain.enums import Role, Status

S = Status
# status -> statuses a team lead may move it to
LEAD_TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.SUBMITTED: frozenset({S.IN_REVIEW, S.NEEDS_INFO, S.ACCEPTED, S.REJECTED}),
    S.IN_REVIEW: frozenset({S.NEEDS_INFO, S.ACCEPTED, S.REJECTED}),
    S.NEEDS_INFO: frozenset({S.IN_REVIEW, S.ACCEPTED, S.REJECTED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS, S.IMPLEMENTED, S.REJECTED}),
    S.IN_PROGRESS: frozenset({S.IMPLEMENTED, S.REJECTED}),
    S.IMPLEMENTED: frozenset(),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
UNDECIDED = frozenset({S.SUBMITTED, S.IN_REVIEW, S.NEEDS_INFO})  # the submitter may still withdraw
OPEN = frozenset({S.SUBMITTED, S.IN_REVIEW, S.NEEDS_INFO, S.ACCEPTED, S.IN_PROGRESS})  # the team has work on it
REVIEWERS = frozenset({Role.LEAD, Role.ADMIN})


def lead_may(current: str, target: str) -> bool:
    """True if a team lead may move an idea from `current` to `target`."""
    try:
        return Status(target) in LEAD_TRANSITIONS[Status(current)]
    except ValueError:
        return False


def author_may_withdraw(current: str) -> bool:
    """The submitter may withdraw an idea only before the team has decided."""
    return current in UNDECIDED
