"""Structure referents: who, besides the coordination, may approve an access request.

A referent (the member a coordinator named for a structure, or else its first approved
member) approves the staff of their own structure, as national digital-aid services do; the
approved account is attached to the referent's own place.

A structure's members all name its commune in their requests: only that commune's members are
read, so opening one's professional space costs the same with ten thousand professionals in
the network as with ten.
"""

from __future__ import annotations

from flows import coordination
from flows.coordination import Member, structure_key
from flows.messages import UserKey
from flows.ports import UnitOfWork
from flows.records import AccessRequest
from handlers.session import Session


async def referent_of(uow: UnitOfWork, structure: str, commune: str) -> UserKey | None:
    """The referent of the structure ``structure`` (its key) in ``commune``: only that
    commune's members and that structure's named referent are read, not the network's."""
    members = await uow.coordination.members_at(commune)
    named = await uow.coordination.named_referent(structure)
    return coordination.referent(structure, {structure: named} if named else {}, members)


async def decides(uow: UnitOfWork, decider: UserKey, request: AccessRequest) -> bool:
    """Whether ``decider`` is the referent of the request's structure (never for their own
    request)."""
    if request.user == decider:
        return False
    key = structure_key(request.structure, request.commune)
    return await referent_of(uow, key, request.commune) == decider


async def referent_for(uow: UnitOfWork, request: AccessRequest) -> UserKey | None:
    """The referent of the request's structure, if it has one (never the requester)."""
    found = await referent_of(uow, structure_key(request.structure, request.commune),
                              request.commune)
    return None if found == request.user else found


async def may_decide(session: Session, request: AccessRequest) -> bool:
    """The coordination decides every request; a referent those of their structure."""
    if session.user.is_coordinator:
        return True
    if session.user.role is None:
        return False
    return await decides(session.uow, session.user.key, request)


async def own_structure(session: Session) -> Member | None:
    """The person as a member of a structure (they came through an approved request)."""
    if session.user.role is None:
        return None
    member = await session.uow.coordination.member_of(session.user.key)
    return member if member is not None and member.structure else None


async def structure_pending(session: Session) -> list[AccessRequest]:
    """The pending requests a referent may decide (their structure's)."""
    own = await own_structure(session)
    if own is None or not await _refers(session, own):
        return []
    return [r for r in await session.uow.access.pending()
            if r.user != session.user.key
            and structure_key(r.structure, r.commune) == own.structure]


async def is_referent(session: Session) -> bool:
    """Whether the user is the referent of some structure (their menu shows its requests):
    a referent is a member of the structure they refer, so of their own."""
    own = await own_structure(session)
    return own is not None and await _refers(session, own)


async def _refers(session: Session, own: Member) -> bool:
    assert own.structure is not None and own.request is not None
    return await referent_of(session.uow, own.structure,
                             own.request.commune) == session.user.key
