"""The after-donation service as the beneficiary sees it: joining, the menu, help chats.

Beneficiaries often have little digital experience. Every text here follows the "Facile à lire
et à comprendre" rules that fit a chat: common words, one idea per sentence, at most fifteen
words a sentence, at most three sentences before the one question, dates written in full (by
babel), buttons for every answer. ``tests/flows/test_beneficiary_texts.py`` reads every message
id of this module and checks it, so keep beneficiary-facing texts here.

It is an invitation, never surveillance: we keep a first name (or nothing), the workshops
booked, and the yes/no to messages; all of it is deleted at once on request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from flows import actions as act
from flows.answers import (
    Accepted,
    FreeText,
    Input,
    OneOf,
    Rejected,
    Verdict,
    clean_text,
    match_choice,
)
from flows.coordination import hours_of
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.home import LANGUAGES
from flows.joincode import printed, read
from flows.messages import Choice, Reply
from flows.opening_hours import OpeningHours, clock_words, in_words, when_words
from flows.records import Beneficiary, Booking, Place, Workshop
from flows.text import Lines, Msg, When, _, _n, by_gesture, verbatim
from flows.workshops import ReminderPolicy, topic_label

JOIN_FLOW = "beneficiary.join"
CODE_FLOW = "beneficiary.code"
CHAT_FLOW = "help.chat"

MAX_CHAT = 1000
"""Longest relayed help message (a long one is cut, never refused)."""


@dataclass(frozen=True)
class BeneficiaryConfig:
    """Settings of the after-donation service, read once by ``bot/``."""

    policy: ReminderPolicy
    code_validity: timedelta = timedelta(days=30)
    telegram_bot: str | None = None
    """The bot's Telegram username (without @), for ``https://t.me/<bot>?start=<code>``."""
    booklet_url: str | None = None
    retention: timedelta = timedelta(days=183)
    reminders_every: timedelta = timedelta(minutes=5)
    purge_every: timedelta = timedelta(hours=6)
    path_length: int = 7
    """Workshops in the getting-started path ("3 ateliers sur 7"): about seven for people
    in difficulty, the field says."""


def _menu() -> Choice:
    return Choice(act.BeneficiaryMenu().pack(), _("Menu"))


def _book() -> Choice:
    return Choice(act.OfferWorkshops().pack(), _("Réserver un atelier"))


def book_id(workshop_id: int) -> str:
    return act.Book(workshop_id).pack()


def cancel_id(workshop_id: int) -> str:
    return act.CancelBooking(workshop_id).pack()


def move_id(workshop_id: int) -> str:
    return act.OfferMove(workshop_id).pack()


def move_to_id(old: int, new: int) -> str:
    return act.MoveBooking(old, new).pack()


def coming_id(workshop_id: int, coming: bool) -> str:
    return (act.Coming if coming else act.NotComing)(workshop_id).pack()


def lang_id(lang: str, code: str) -> str:
    return act.JoinLanguage(lang, code).pack()


def _spoken(at: datetime) -> When:
    """A date and time as a beneficiary reads it: "jeudi 26 novembre à 14 heures"."""
    return When(at, spoken=True)


# --- Joining --------------------------------------------------------------------------------


class JoinStep(StrEnum):
    """Steps of joining (stored in conversations: never rename a value)."""

    NAME = "name"
    CONSENT = "consent"


@dataclass(frozen=True)
class Join(Effect):
    """Finish joining: keep the first name (or none) and the yes/no to reminders."""

    first_name: str | None
    reminders: bool


def _finish_join(ctx: Ctx, answers: Answers) -> Outcome:
    return Outcome(effects=[Join(answers.get(JoinStep.NAME),
                                 answers.get(JoinStep.CONSENT) == "yes")])


YES_NO = [Choice("yes", _("Oui")), Choice("no", _("Non"))]

JOIN = Flow(
    name=JOIN_FLOW,
    first=JoinStep.NAME,
    finish=_finish_join,
    steps={
        JoinStep.NAME: Step(
            ask=by_gesture(
                _("Quel est votre prénom ? Vous pouvez aussi toucher « Passer »."),
                _("Quel est votre prénom ? Vous pouvez aussi répondre « Passer »."),
            ),
            answer=FreeText(1, 40, optional=True),
            next=JoinStep.CONSENT,
            help=_("Votre prénom aide le lieu à vous accueillir. Il n'est pas obligatoire."),
        ),
        JoinStep.CONSENT: Step(
            ask=_("Nous gardons seulement votre prénom, vos ateliers et vos choix. "
                  "Voulez-vous recevoir un rappel avant chaque atelier ?"),
            answer=OneOf(YES_NO),
            next=None,
            help=_("Vous pouvez changer d'avis à tout moment, dans le menu."),
        ),
    },
)


def welcome_language(code: str) -> Reply:
    """First message after a valid code: hello, then the language (one question)."""
    return Reply(
        [_("Bonjour ! Bienvenue dans le service d'aide après le don."),
         _("Choisissez votre langue.")],
        [Choice(lang_id(lang, code), verbatim(name)) for lang, name in LANGUAGES.items()],
    )


@dataclass(frozen=True)
class CheckCode(Effect):
    """A code was typed at the "I received a computer" door (None: the person has none)."""

    code: str | None


@dataclass(frozen=True)
class CodeAnswer:
    """A join code typed in any spelling, or "I have no code"."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return [Choice("nocode", _("Je n'ai pas de code"))]

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        if match_choice(given, self.choices(ctx), ctx) is not None:
            return Accepted(None)
        code = read(clean_text(given.text)[:40])
        if code is None:
            return Rejected(_("Ce code ne ressemble pas à un code du réseau. "
                              "Il ressemble à ceci : REJ 7K3 M9P."))
        return Accepted(code)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(printed(value)) if value else _("(non renseigné)")


def _finish_code(ctx: Ctx, answers: Answers) -> Outcome:
    return Outcome(effects=[CheckCode(answers.get("code"))])


CODE = Flow(
    name=CODE_FLOW,
    first="code",
    finish=_finish_code,
    intro=_("Le lieu qui vous a donné l'ordinateur vous a aussi donné un code."),
    steps={
        "code": Step(
            ask=_("Écrivez ce code ici. Par exemple : REJ 7K3 M9P."),
            answer=CodeAnswer(),
            help=_("Le code est sur le papier remis avec l'ordinateur."),
        ),
    },
)


def code_refused(verdict: str) -> Msg:
    """Why a join code does not work, and what to do (ask the place for a new one)."""
    match verdict:
        case "used":
            return _("Ce code a déjà servi. Demandez un nouveau code au lieu "
                     "qui vous a donné l'ordinateur.")
        case "expired":
            return _("Ce code est trop ancien. Demandez un nouveau code au lieu "
                     "qui vous a donné l'ordinateur.")
    return _("Je ne connais pas ce code. Vérifiez-le, puis écrivez-le encore.")


def no_code() -> Msg:
    return _("Pas de souci. Demandez un code au lieu qui vous a donné l'ordinateur.")


def already_joined() -> Msg:
    return _("Vous êtes déjà inscrit. Voici votre menu.")


def joined(consent: bool, first: Workshop | None) -> Reply:
    """What a new beneficiary reads first: one message, three short sentences at most, then
    one question (the first session, to book at once; the rest is in the menu)."""
    texts = [_("C'est fait, bienvenue !"),
             _("Vous recevrez un rappel avant chaque atelier.") if consent
             else _("Vous ne recevrez pas de rappel.")]
    if first is None:
        return Reply([*texts, _("Que voulez-vous faire ?")], [_menu()])
    texts.append(_("Premier atelier : {topic}, {when}.", topic=topic_label(first.topic),
                   when=_spoken(first.starts_at)))
    return Reply([*texts, _("Voulez-vous y aller ?")], [
        Choice(book_id(first.id), _("Oui, je réserve")),
        Choice(act.OfferWorkshops().pack(), _("Une autre date")),
        Choice(act.BeneficiaryMenu().pack(), _("Plus tard")),
    ])


# --- The menu -------------------------------------------------------------------------------


def menu(beneficiary: Beneficiary, intro: Msg | Sequence[Msg] | None = None) -> Reply:
    """The beneficiary's menu: one question, buttons for everything they can do."""
    if intro is None:
        texts: list[Msg] = []
    elif isinstance(intro, Msg):
        texts = [intro]
    else:
        texts = list(intro)
    texts.append(_("Que voulez-vous faire ?"))
    return Reply(texts, [
        _book(),
        Choice(act.MyWorkshops().pack(), _("Mes ateliers")),
        Choice(act.AskHelp().pack(), _("J'ai besoin d'aide")),
        Choice(act.HelpNearby().pack(), _("Où trouver de l'aide près de chez moi")),
        Choice(act.StarterKit().pack(), _("Mon kit de départ")),
        Choice(act.MyDeviceProblem().pack(), _("Mon appareil a un problème")),
        Choice(act.RemindersQuestion().pack(), _("Rappels : oui ou non")),
        Choice(act.MyData().pack(), _("Mes données")),
    ])


def path(done: int, total: int, booked: Workshop | None, to_take: str | None) -> list[Msg]:
    """Where the person is on the workshop path, counted from the sessions they came to,
    and what comes next: an invitation, never a reproach."""
    if done >= total:
        texts = [_("Vous avez fait les {total} ateliers. Bravo !", total=total)]
    else:
        texts = [_n("Vous avez fait {n} atelier sur {total}.",
                    "Vous avez fait {n} ateliers sur {total}.", done, total=total)]
    if booked is not None:
        texts.append(_("Le prochain : {topic}, {when}.", topic=topic_label(booked.topic),
                       when=_spoken(booked.starts_at)))
    elif to_take is not None and done < total:
        texts.append(_("Le prochain : {topic}. Vous pouvez le réserver.",
                       topic=topic_label(to_take)))
    return texts


def home(beneficiary: Beneficiary, path_texts: Sequence[Msg]) -> Reply:
    """A joined beneficiary's home: hello, their path, then their menu."""
    hello = (_("Bonjour {name} !", name=verbatim(beneficiary.first_name))
             if beneficiary.first_name else _("Bonjour !"))
    return menu(beneficiary, [hello, *path_texts])


def session_label(workshop: Workshop) -> Msg:
    """A session on a button: its topic and its date in full."""
    return _("{topic}, {when}", topic=topic_label(workshop.topic),
             when=_spoken(workshop.starts_at))


def offer_reply(workshops: Sequence[Workshop], moving_from: int | None = None) -> Reply:
    """The sessions one can book (or move to), one button each."""
    if not workshops:
        return Reply([_("Il n'y a pas d'atelier prévu pour le moment. Revenez bientôt !")],
                     [_menu()])
    choices = [
        Choice(book_id(w.id) if moving_from is None else move_to_id(moving_from, w.id),
               session_label(w))
        for w in workshops
    ]
    return Reply([_("Quel atelier voulez-vous ?")], [*choices, _menu()])


def hours_text(place: Place, tz: ZoneInfo) -> Msg:
    """A place's opening hours in plain words, a short list ("du mardi au vendredi, de 9
    heures à midi..."); its own free text when they are not in the syntax read."""
    hours = hours_of(place.osm_hours)
    if hours is None or not in_words(hours):
        return verbatim(place.opening_hours) if place.opening_hours else _("non indiqués")
    return Msg("{lines}", {"lines": Lines(tuple(_("• {phrase}", phrase=phrase)
                                                for phrase in in_words(hours)))})


def where(place: Place | None, commune: str, tz: ZoneInfo) -> Msg:
    """The place of a session: name, address, opening hours."""
    if place is None:
        return _("Lieu à confirmer.")
    return _("Lieu : {name}, {address}, {commune}.\nHoraires :\n{hours}", name=place.name,
             address=place.address, commune=commune, hours=hours_text(place, tz))


def booked(workshop: Workshop, place: Msg) -> list[Msg]:
    """Confirmation of a booking, with its place."""
    return [_("C'est réservé : {topic}, le {when}.", topic=topic_label(workshop.topic),
              when=_spoken(workshop.starts_at)), place]


def reminder_promise(consent: bool) -> Msg | None:
    """Said before the menu after a booking, when a reminder will come."""
    return _("Vous recevrez un rappel avant.") if consent else None


REFUSALS: dict[str, Msg] = {
    "full": _("Désolé, cet atelier est complet."),
    "already": _("Vous avez déjà réservé cet atelier."),
    "started": _("Cet atelier a déjà commencé."),
}


def my_workshops(bookings: Sequence[Booking], places: Sequence[Msg]) -> Reply:
    """What is booked, each with its place, and buttons to cancel or change the date."""
    if not bookings:
        return Reply([_("Vous n'avez pas d'atelier réservé.")],
                     [_book(), _menu()])
    lines: list[Msg] = []
    choices: list[Choice] = []
    for booking, place in zip(bookings, places, strict=True):
        w = booking.workshop
        lines.append(_("• {topic}, {when}.\n{place}", topic=topic_label(w.topic),
                       when=_spoken(w.starts_at), place=place))
        choices.append(Choice(move_id(w.id), _("Changer la date : {topic}",
                                               topic=topic_label(w.topic))))
        choices.append(Choice(cancel_id(w.id), _("Annuler : {topic}",
                                                 topic=topic_label(w.topic))))
    return Reply([_("Vos ateliers :"), Msg("{lines}", {"lines": Lines(tuple(lines))})],
                 [*choices, _menu()])


def cancelled() -> Msg:
    return _("C'est annulé. Votre place est libérée.")


def moved(workshop: Workshop) -> Msg:
    return _("C'est changé ! Nouvelle date : {when}.", when=_spoken(workshop.starts_at))


def reminders_question() -> Reply:
    return Reply([_("Voulez-vous recevoir un rappel avant chaque atelier ?")], [
        Choice(act.RemindersOn().pack(), _("Oui, je veux des rappels")),
        Choice(act.RemindersOff().pack(), _("Non, plus de messages")),
    ])


def reminders_set(consent: bool) -> Msg:
    if consent:
        return _("C'est noté : vous recevrez des rappels.")
    return _("C'est noté : le bot ne vous écrira plus de lui-même.")


def stopped() -> Msg:
    return _("C'est noté : le bot ne vous écrira plus de lui-même. "
             "Vous pouvez changer d'avis dans le menu.")


def my_data(beneficiary: Beneficiary, bookings: int, months: int) -> list[Msg]:
    """Everything kept about the beneficiary (a list), and when it goes away by itself."""
    name = verbatim(beneficiary.first_name) if beneficiary.first_name else _("aucun")
    return [
        _("Ce que nous gardons sur vous :\n• prénom : {name}\n• ateliers réservés : {n}\n"
          "• rappels : {yes_no}", name=name, n=bookings,
          yes_no=_("oui") if beneficiary.reminders else _("non")),
        _n("Tout est effacé {n} mois après votre dernier atelier.",
           "Tout est effacé {n} mois après votre dernier atelier.", months),
    ]


def forget_question() -> Reply:
    return Reply([_("Voulez-vous tout effacer maintenant ?")],
                 [Choice(act.ForgetMe().pack(), _("Tout effacer")),
                  Choice(act.BeneficiaryMenu().pack(), _("Non, retour au menu"))])


def forget_confirm() -> Reply:
    return Reply([_("Tout sera effacé. Le bot ne vous écrira plus. "
                    "Voulez-vous vraiment tout effacer ?")], [
        Choice(act.ForgetMeYes().pack(), _("Oui, tout effacer")),
        Choice(act.BeneficiaryMenu().pack(), _("Non")),
    ])


def forgotten() -> Msg:
    return _("C'est fait : toutes vos données sont effacées. Au revoir !")


def not_joined() -> Msg:
    return _("Ce bouton est pour les personnes inscrites avec un code.")


# --- Reminders ------------------------------------------------------------------------------


def reminder(workshop: Workshop, place: Msg) -> Reply:
    """A reminder: the session, its place, and one question with two buttons."""
    return Reply([
        _("Rappel : atelier « {topic} » le {when}.", topic=topic_label(workshop.topic),
          when=_spoken(workshop.starts_at)),
        place,
        _("Vous venez ?"),
    ], [
        Choice(coming_id(workshop.id, True), _("Je viens")),
        Choice(coming_id(workshop.id, False), _("Je ne peux pas venir")),
    ])


def coming_thanks() -> Msg:
    return _("Merci ! À bientôt.")


def here_when_you_want() -> Msg:
    """Said once after two sessions missed in a row; then the bot writes no more on its own."""
    return _("Nous ne vous avons pas vu aux deux derniers ateliers. Ce n'est pas grave. "
             "Nous sommes là quand vous voulez.")


def other_date(workshops: Sequence[Workshop]) -> Reply:
    """After "I can't come": the seat is freed, another date is offered."""
    if not workshops:
        return Reply([_("C'est noté. Votre place est libérée."),
                      _("Il n'y a pas d'autre date pour le moment.")],
                     [_menu()])
    return Reply([_("C'est noté. Votre place est libérée."),
                  _("Voulez-vous une autre date ?")],
                 [*[Choice(book_id(w.id), session_label(w)) for w in workshops],
                  Choice(act.BeneficiaryMenu().pack(), _("Non merci"))])


def session_cancelled(workshop: Workshop) -> Msg:
    """Told to those booked when the place cancels a session."""
    return _("Attention : l'atelier du {when} est annulé. Le lieu vous prie de l'excuser.",
             when=_spoken(workshop.starts_at))


# --- The handover kit -----------------------------------------------------------------------


def kit(booklet: str | None, places: Sequence[Msg], calendar: Sequence[Workshop]) -> list[Msg]:
    """The handover kit: the booklet link, the places that help nearby, the next workshops."""
    texts: list[Msg] = []
    if booklet:
        texts.append(_("Le livret pour bien démarrer :\n{link}", link=verbatim(booklet)))
    if places:
        texts.append(_("Les lieux qui aident près de chez vous :\n{lines}",
                       lines=Lines(tuple(places))))
    if calendar:
        sessions = tuple(_("• {label}", label=session_label(w)) for w in calendar)
        texts.append(_("Les prochains ateliers :\n{lines}", lines=Lines(sessions)))
    return texts


def kit_reply(texts: Sequence[Msg]) -> Reply:
    """The kit from the menu, then one question."""
    return Reply([*texts, _("Que voulez-vous faire ?")],
                 [_book(), _menu()])


def place_line(place: Place, commune: str) -> Msg:
    """A place of the kit: its name and commune (its hours come with each session)."""
    return _("• {name}, {commune}", name=place.name, commune=commune)


# --- Remote help ----------------------------------------------------------------------------


def help_procedure(instructions: str | None, link: str | None) -> list[Msg]:
    """The place's remote-help procedure and link (its own words), if it has one."""
    texts: list[Msg] = []
    if instructions:
        texts.append(_("Pour être aidé à distance :\n{text}", text=verbatim(instructions)))
    if link:
        texts.append(_("Le lien : {link}", link=verbatim(link)))
    return texts


def help_when(hours: Msg | None) -> Msg:
    """When someone of the place will answer (its opening hours, in plain words)."""
    if hours is not None:
        return _("Une personne du lieu va vous répondre ici. "
                 "Elle répond quand le lieu est ouvert :\n{hours}", hours=hours)
    return _("Une personne du lieu va vous répondre ici.")


# --- Help near me ---------------------------------------------------------------------------


def open_status(hours: OpeningHours, now: datetime, tz: ZoneInfo) -> Msg | None:
    """Open now (until when), or when it opens next, in plain words."""
    if hours.is_open(now, tz):
        closes = hours.closes_at(now, tz)
        if closes is None:
            return _("Ouvert maintenant.")
        local = closes.astimezone(tz)
        return _("Ouvert maintenant, jusqu'à {time}.",
                 time=clock_words(local.hour * 60 + local.minute))
    opens = hours.next_opening(now, tz, days=8)
    if opens is None:
        return None
    return _("Fermé maintenant. Ouvre {when}.", when=when_words(opens, now, tz))


def help_place(name: str, address: str, commune: str, status: Msg | None) -> Msg:
    """One help place: where it is, and whether it is open."""
    place = _("• {name}, {address}, {commune}.", name=verbatim(name),
              address=verbatim(address), commune=verbatim(commune))
    if status is None:
        return place
    return Msg("{place}\n  {status}", {"place": place, "status": status})


def help_places(lines: Sequence[Msg], own_place: str | None) -> list[Msg]:
    """The help places near the person, or where to ask when none is known."""
    if lines:
        return [_("Les lieux qui aident près de chez vous :\n{lines}",
                  lines=Lines(tuple(lines)))]
    if own_place:
        return [_("Je ne connais pas encore d'autre lieu d'aide près de chez vous."),
                _("Le lieu qui vous a donné l'ordinateur peut vous aider : {name}.",
                  name=verbatim(own_place))]
    return [_("Je ne connais pas encore de lieu d'aide près de chez vous.")]


def help_taken() -> Msg:
    return _("Une personne du lieu s'occupe de votre demande.")


def from_place(text: str) -> Msg:
    """A mediator's words, relayed to the beneficiary as they were written."""
    return _("Message du lieu :\n{text}", text=verbatim(text))


def help_closed() -> Msg:
    return _("La demande d'aide est terminée. Vous pouvez en faire une autre dans le menu.")


class Side(StrEnum):
    """Who writes in a help chat (stored in conversations: never rename a value)."""

    BENEFICIARY = "b"
    MEDIATOR = "m"


@dataclass(frozen=True)
class Relay(Effect):
    """Pass a message of a help chat to the other side (``text`` None: end the chat)."""

    ticket: int
    side: str
    text: str | None


END_CHAT = "end"


@dataclass(frozen=True)
class ChatAnswer:
    """A message to relay, or the button that ends the chat."""

    optional: bool = False

    def choices(self, ctx: Ctx) -> Sequence[Choice]:
        return [Choice(END_CHAT, _("Terminer la discussion"))]

    def parse(self, given: Input, ctx: Ctx, pending: dict[str, Any]) -> Verdict:
        if match_choice(given, self.choices(ctx), ctx) is not None:
            return Accepted(None)
        if given.choice is not None:
            return Rejected(_("Écrivez votre message."))
        text = clean_text(given.text)[:MAX_CHAT]
        if not any(ch.isalnum() for ch in text):
            return Rejected(_("Écrivez votre message avec des mots."))
        return Accepted(text)

    def show(self, value: Any, ctx: Ctx) -> Msg:
        return verbatim(value) if value else _("(non renseigné)")


def _chat_ask(ctx: Ctx, answers: Answers) -> Msg:
    if ctx.facts.get("side") == Side.MEDIATOR:
        return _("Écrivez votre réponse à la demande n° {id}.", id=ctx.facts.get("ticket", 0))
    return _("Écrivez votre question ici.")


def _finish_chat(ctx: Ctx, answers: Answers) -> Outcome:
    """The ticket and the side come from ``ctx.facts`` (loaded by the handler each time)."""
    return Outcome(effects=[Relay(int(ctx.facts.get("ticket", 0)),
                                  str(ctx.facts.get("side", "")), answers.get("msg"))])


CHAT = Flow(
    name=CHAT_FLOW,
    first="msg",
    finish=_finish_chat,
    steps={"msg": Step(ask=_chat_ask, answer=ChatAnswer(),
                       help=by_gesture(
                           _("Votre message part au lieu. Touchez « Terminer » à la fin."),
                           _("Votre message part au lieu. À la fin, répondez "
                             "« Terminer la discussion » (ou son numéro).")))},
)


def relayed(side: str) -> Reply:
    """After each relayed message: sent, write more, or end."""
    text = (_("Envoyé à la personne.") if side == Side.MEDIATOR
            else _("Envoyé. Vous pouvez écrire encore."))
    return Reply([text], [Choice(END_CHAT, _("Terminer la discussion"))])


FLOWS = (JOIN, CODE, CHAT)
