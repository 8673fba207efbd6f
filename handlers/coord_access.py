"""Coordinators manage accesses: the queue and accounts by role, a role or place changed, an
access withdrawn, a structure's referent named; referents see their structure's queue."""

from __future__ import annotations

import logging

from flows import actions as act
from flows.access import ROLE_SHORT, coordinator_notice, decision_choices
from flows.audit import AuditAction
from flows.coordination import MEMBERS_SHOWN, Member, members_of_role
from flows.messages import Choice
from flows.records import PlaceId, Role
from flows.text import Msg, _, _n, verbatim
from handlers.coord_places import titled
from handlers.referents import structure_pending
from handlers.session import Session
from handlers.transfers import driver_choice

log = logging.getLogger(__name__)

ROLE_FILTERS = ("all", *[r.value for r in Role])


def number_of(text: str) -> int | None:
    """A number read from a button id (at most nine digits), or None."""
    return int(text) if text.isdigit() and len(text) <= 9 else None


def _member_line(member: Member) -> Msg:
    request = member.request
    who = verbatim(f"{request.contact_name}, {request.structure}" if request else member.user)
    return _("• n° {n} : {who} ({role})", n=member.number, who=who, role=ROLE_SHORT[member.role])


async def access_list(session: Session, role_filter: str) -> None:
    """Pending requests and approved accounts, of one role or all."""
    role = None if role_filter == "all" else Role(role_filter)
    pending = [r for r in await session.uow.access.pending() if role in (None, r.role)]
    members = members_of_role(await session.uow.coordination.members(), role)
    territory = session.ctx.territory
    pending_lines = [
        _("• n° {id} : {structure}, {commune} ({role})", id=r.id, structure=verbatim(r.structure),
          commune=(c.name if (c := territory.commune(r.commune)) else r.commune),
          role=ROLE_SHORT[r.role]) for r in pending]
    choices = [c for r in pending for c in decision_choices(r)]
    choices += [Choice(act.Member(m.number).pack(), _("Gérer le compte n° {n}", n=m.number))
                for m in members[:MEMBERS_SHOWN]]
    choices += [Choice(act.AccountsOf(f).pack(),
                       label) for f, label in _filters().items() if f != role_filter]
    texts = [titled(_n("{n} demande en attente :", "{n} demandes en attente :", len(pending)),
                    pending_lines or [_("aucune")]),
             titled(_n("{n} compte validé :", "{n} comptes validés :", len(members)),
                    [_member_line(m) for m in members[:MEMBERS_SHOWN]] or [_("aucun")])]
    if len(members) > MEMBERS_SHOWN:
        texts.append(_("… et {n} autres : filtrez par rôle.", n=len(members) - MEMBERS_SHOWN))
    session.say(*texts, choices=choices, action_menu=True)


def _filters() -> dict[str, Msg]:
    return {"all": _("Tous les rôles"), **{r.value: _("Seulement : {role}", role=ROLE_SHORT[r])
                                          for r in Role}}


async def member_detail(session: Session, member: Member) -> None:
    """One account: who, role, place; change the role or place, revoke, name referent."""
    place = await session.uow.places.get(member.place_id) if member.place_id else None
    request = member.request
    text = _("Compte n° {n} : {who}\nRôle : {role}\nLieu : {place}",
             n=member.number,
             who=verbatim(f"{request.contact_name} ({request.function}), {request.structure}"
                          if request else member.user),
             role=ROLE_SHORT[member.role], place=verbatim(place.name) if place else _("aucun"))
    choices = [Choice(act.MemberRole(member.number).pack(), _("Changer le rôle")),
               Choice(act.MemberPlace(member.number).pack(), _("Changer le lieu"))]
    if request is not None:
        choices.append(Choice(act.NameReferent(member.number).pack(),
                              _("Nommer référent·e de sa structure")))
    choices.append(await driver_choice(session, member.number, member.user))
    choices.append(Choice(act.Revoke(member.number).pack(), _("Retirer l'accès")))
    session.say(text, choices=choices, action_menu=True)


async def member_action(session: Session, verb: str, member: Member, extra: str) -> None:
    """Role, place, referent, revocation of one account."""
    uow = session.uow
    match verb:
        case "mr":
            session.say(_("Quel rôle pour le compte n° {n} ?", n=member.number),
                        choices=[Choice(act.MemberRoleSet(member.number, r).pack(), ROLE_SHORT[r])
                                 for r in Role], action_menu=True)
        case "mrr":
            try:
                role = Role(extra)
            except ValueError:
                session.say(_("Ce bouton n'est plus valable."))
                return
            await uow.coordination.set_member(member.user, role, member.place_id)
            await _audit_role(session, member, f"role {role.value}")
            session.say(_("Le compte n° {n} a maintenant le rôle : {role}.", n=member.number,
                          role=ROLE_SHORT[role]))
            session.send(member.user, [_("La coordination a changé votre rôle : {role}.",
                                         role=ROLE_SHORT[role])])
        case "mp":
            choices = [Choice(act.MemberPlaceSet(member.number, p.id).pack(), verbatim(p.name))
                       for p in await uow.places.all()]
            choices.append(Choice(act.MemberPlaceSet(member.number, 0).pack(), _("Aucun lieu")))
            session.say(_("À quel lieu rattacher le compte n° {n} ?", n=member.number),
                        choices=choices, action_menu=True)
        case "mpp":
            number = number_of(extra)
            place = await uow.places.get(PlaceId(number)) if number else None
            if number is None or (number and place is None):
                session.say(_("Ce lieu n'existe plus."))
                return
            await uow.coordination.set_member(member.user, member.role,
                                              place.id if place else None)
            await _audit_role(session, member, f"place {place.id if place else '-'}")
            name = verbatim(place.name) if place else _("aucun")
            session.say(_("Compte n° {n} rattaché à : {place}.", n=member.number, place=name))
            session.send(member.user, [_("Votre compte est rattaché au lieu : {place}.",
                                         place=name)])
        case "mf":
            if member.structure is None:
                session.say(_("Ce compte n'a pas de structure connue."))
                return
            await uow.coordination.name_referent(member.structure, member.user,
                                                 session.user.key, session.now)
            await uow.audit.record(session.user.key, AuditAction.REFERENT_NAMED,
                                   _subject(member), session.now)
            session.say(_("Le compte n° {n} est référent·e de sa structure : il peut valider "
                          "les demandes d'accès de ses collègues.", n=member.number))
            session.send(member.user, [_(
                "La coordination vous a nommé·e référent·e de votre structure : vous recevrez "
                "les demandes d'accès de vos collègues et pourrez les valider.")])
        case "mv":
            session.say(_("Retirer l'accès professionnel du compte n° {n} ? La personne ne "
                          "pourra plus faire de demandes ni en recevoir.", n=member.number),
                        choices=[Choice(act.RevokeYes(member.number).pack(),
                                        _("Oui, retirer l'accès")),
                                 Choice(act.Member(member.number).pack(), _("Non"))],
                                     action_menu=True)
        case "mvy":
            if not await uow.coordination.revoke(member.user, session.user.key, session.now):
                session.say(_("Ce compte n'a déjà plus d'accès."))
                return
            await uow.audit.record(session.user.key, AuditAction.ACCESS_REVOKED,
                                   _subject(member), session.now, member.role.value)
            log.info("access of %s revoked by %s", member.user, session.user.key)
            session.say(_("Accès retiré pour le compte n° {n}.", n=member.number),
                        choices=[Choice(act.Accounts().pack(), _("Accès et comptes"))],
                        action_menu=True)
            session.send(member.user, [_("Votre accès professionnel au réseau a été retiré par "
                                         "la coordination. Pour toute question, contactez-la.")])
        case _:
            await member_detail(session, member)


def _subject(member: Member) -> str:
    return f"access:{member.request.id}" if member.request else str(member.user)


async def _audit_role(session: Session, member: Member, detail: str) -> None:
    await session.uow.audit.record(session.user.key, AuditAction.ROLE_CHANGED, _subject(member),
                                   session.now, detail)


async def referent_queue(session: Session) -> None:
    """A referent's queue: the pending requests of their structure, each with its actions."""
    requests = await structure_pending(session)
    if not requests:
        session.say(_("Aucune demande d'accès en attente pour votre structure."))
        return
    for request in requests:
        commune = session.ctx.territory.commune(request.commune)
        session.say(coordinator_notice(request, commune.name if commune else request.commune),
                    choices=decision_choices(request), action_menu=True)
