"""Structure referents: who, besides the coordination, may approve an access request.

A referent (the member a coordinator named for a structure, or else its first approved
member) approves the staff of their own structure, as national digital-aid services do; the
approved account is attached to the referent's own place.
"""

from __future__ import annotations

from flows import coordination
from flows.coordination import structure_key
from flows.messages import UserKey
from flows.ports import UnitOfWork
from flows.records import AccessRequest
from handlers.session import Session


async def referent_for(uow: UnitOfWork, request: AccessRequest) -> UserKey | None:
    """The referent of the request's structure, if it has one (never the requester)."""
    members = await uow.coordination.members()
    named = await uow.coordination.referents()
    found = coordination.referent(structure_key(request.structure, request.commune), named,
                                  members)
    return None if found == request.user else found


async def may_decide(session: Session, request: AccessRequest) -> bool:
    """The coordination decides every request; a referent those of their structure."""
    if session.user.is_coordinator:
        return True
    if session.user.role is None:
        return False
    members = await session.uow.coordination.members()
    named = await session.uow.coordination.referents()
    return coordination.may_decide(session.user.key, request, named, members)


async def structure_pending(session: Session) -> list[AccessRequest]:
    """The pending requests a referent may decide (their structure's)."""
    if session.user.role is None:
        return []
    members = await session.uow.coordination.members()
    named = await session.uow.coordination.referents()
    return [r for r in await session.uow.access.pending()
            if coordination.may_decide(session.user.key, r, named, members)]


async def is_referent(session: Session) -> bool:
    """Whether the user is the referent of some structure (their menu shows its requests)."""
    if session.user.role is None:
        return False
    members = await session.uow.coordination.members()
    named = await session.uow.coordination.referents()
    own = [m.structure for m in members if m.user == session.user.key and m.structure]
    return any(coordination.referent(key, named, members) == session.user.key for key in own)
