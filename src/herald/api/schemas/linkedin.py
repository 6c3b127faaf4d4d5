"""Request bodies of Publora's LinkedIn endpoints, for the OpenAPI document (the routes parse
the bodies themselves, to answer with Publora's exact strings)."""

from __future__ import annotations

from typing import Literal

from herald.api.schemas.base import WireModel


class CommentBody(WireModel):
    posted_id: str
    message: str
    platform_id: str
    parent_comment: str | None = None


class CommentDeletion(WireModel):
    posted_id: str
    comment_id: str
    platform_id: str


class ReactionBody(WireModel):
    posted_id: str
    reaction_type: Literal["LIKE", "PRAISE", "EMPATHY", "INTEREST", "APPRECIATION", "ENTERTAINMENT"]
    platform_id: str


class ReactionRemoval(WireModel):
    posted_id: str
    platform_id: str


class ReshareBody(WireModel):
    platform_id: str
    parent: str
    commentary: str | None = None
    visibility: Literal["PUBLIC", "CONNECTIONS"] | None = None


class StatisticsBody(WireModel):
    posted_id: str
    platform_id: str
    query_type: str | None = None
    query_types: list[str] | str | None = None


class FollowersBody(WireModel):
    platform_id: str
    period: Literal["lifetime", "daily"] | None = None
    date_range: dict[str, dict[str, int]] | None = None


class AccountStatisticsBody(WireModel):
    platform_id: str
    query_type: str | None = None
    query_types: list[str] | str | None = None
    aggregation: Literal["TOTAL"] | None = None
    date_range: dict[str, dict[str, int]] | None = None


class ProfileSummaryBody(WireModel):
    platform_id: str
    date_range: dict[str, dict[str, int]] | None = None
