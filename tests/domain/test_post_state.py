"""The target state machine, wire statuses and the group status rule (DESIGN §4)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herald.domain.post_state import (
    ALLOWED_TRANSITIONS,
    TERMINAL_STATES,
    InvalidTransitionError,
    PostStatus,
    TargetState,
    group_status,
    transition,
    wire_status,
)


@pytest.mark.parametrize(
    ("current", "requested"), list(itertools.product(TargetState, TargetState))
)
def test_transition_follows_the_table(current: TargetState, requested: TargetState) -> None:
    if requested in ALLOWED_TRANSITIONS[current]:
        assert transition(current, requested) is requested
    else:
        with pytest.raises(InvalidTransitionError):
            transition(current, requested)


def test_terminal_states_and_the_never_twice_rules() -> None:
    assert {
        TargetState.PUBLISHED,
        TargetState.FAILED,
        TargetState.OUTCOME_UNKNOWN,
    } == TERMINAL_STATES
    # An in-doubt target is never sent again directly: only the reconciler, having found the
    # post or made sure a re-send is safe, may put it back in the queue.
    assert ALLOWED_TRANSITIONS[TargetState.IN_DOUBT] == {TargetState.RECONCILING}
    assert TargetState.PUBLISHING not in ALLOWED_TRANSITIONS[TargetState.RECONCILING]
    assert TargetState.FAILED not in ALLOWED_TRANSITIONS[TargetState.RECONCILING]


@pytest.mark.parametrize(
    ("state", "sent", "status"),
    [
        (TargetState.DRAFT, False, PostStatus.DRAFT),
        (TargetState.SCHEDULED, False, PostStatus.SCHEDULED),
        (TargetState.PUBLISHING, False, PostStatus.PENDING),
        (TargetState.PUBLISHING, True, PostStatus.PROCESSING),
        (TargetState.IN_DOUBT, True, PostStatus.PROCESSING),
        (TargetState.RECONCILING, True, PostStatus.PROCESSING),
        (TargetState.PUBLISHED, True, PostStatus.PUBLISHED),
        (TargetState.FAILED, True, PostStatus.FAILED),
        (TargetState.OUTCOME_UNKNOWN, True, PostStatus.FAILED),
    ],
)
def test_wire_status(state: TargetState, sent: bool, status: PostStatus) -> None:
    assert wire_status(state, sent=sent) is status


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([PostStatus.PUBLISHED, PostStatus.PUBLISHED], PostStatus.PUBLISHED),
        ([PostStatus.FAILED], PostStatus.FAILED),
        ([PostStatus.PUBLISHED, PostStatus.FAILED], PostStatus.PARTIALLY_PUBLISHED),
        ([PostStatus.PUBLISHED, PostStatus.PROCESSING], PostStatus.PROCESSING),
        ([PostStatus.PENDING, PostStatus.PROCESSING], PostStatus.PENDING),
        ([PostStatus.SCHEDULED, PostStatus.PUBLISHED], PostStatus.SCHEDULED),
        ([PostStatus.DRAFT, PostStatus.SCHEDULED], PostStatus.DRAFT),
        ([], PostStatus.DRAFT),
    ],
)
def test_group_status(statuses: list[PostStatus], expected: PostStatus) -> None:
    assert group_status(statuses) is expected


target_statuses = st.sampled_from(
    [s for s in PostStatus if s is not PostStatus.PARTIALLY_PUBLISHED]
)


@given(st.lists(target_statuses, min_size=1, max_size=6))
def test_group_status_is_terminal_only_when_every_target_is(statuses: list[PostStatus]) -> None:
    result = group_status(statuses)
    finished = {PostStatus.PUBLISHED, PostStatus.FAILED}
    if set(statuses) <= finished:
        assert result in finished | {PostStatus.PARTIALLY_PUBLISHED}
    else:
        assert result in statuses
        assert result not in finished
