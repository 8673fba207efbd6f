"""The front door: a welcome, the three doors of the network, help and language."""

from __future__ import annotations

from dataclasses import dataclass

from flows import actions as act
from flows.answers import OneOf
from flows.engine import Answers, Ctx, Effect, Flow, Outcome, Step
from flows.messages import Choice, Reply
from flows.records import User
from flows.text import Msg, _

LANGUAGES: dict[str, str] = {"fr": "Français", "en": "English"}
"""Languages with a complete catalog; labels are each language's own name."""


def home(user: User, first_time: bool) -> Reply:
    """The home menu; the first visit starts with a short welcome."""
    texts: list[Msg] = []
    if first_time:
        texts.append(_(
            "Bonjour ! Je suis le bot du réseau de réemploi solidaire du numérique "
            "des Hautes-Alpes."
        ))
    texts.append(_("Que souhaitez-vous faire ?"))
    pro_label = (
        _("Espace professionnel")
        if user.is_professional
        else _("J'accompagne des personnes (accès professionnel)")
    )
    return Reply(texts, [
        Choice(act.ProDoor().pack(), pro_label),
        Choice(act.GiveDoor().pack(), _("Je veux donner du matériel")),
        Choice(act.GotDoor().pack(), _("J'ai reçu un ordinateur")),
        Choice(act.HelpDoor().pack(), _("Aide")),
        Choice(act.LanguageDoor().pack(), _("Langue / Language")),
        # Last, so that the numbers typed on text platforms ("4": help) keep their meaning.
        Choice(act.BuyDoor().pack(), _("Acheter un ordinateur reconditionné")),
    ])


def help_reply() -> Reply:
    """General help: what the bot does and the words that always work."""
    return Reply([_(
        "Ce bot met en relation les personnes qui donnent du matériel informatique, les "
        "professionnels qui accompagnent des personnes, et les lieux qui reconditionnent et "
        "remettent les ordinateurs.\n"
        "Mots utiles à tout moment : « menu » (accueil), « retour » (question précédente), "
        "« annuler » (abandonner), « aide », « langue »."
    )])


@dataclass(frozen=True)
class SetLanguage(Effect):
    """Remember the user's language."""

    lang: str


LANG_FLOW_NAME = "language"


def _finish_language(ctx: Ctx, answers: Answers) -> Outcome:
    return Outcome(effects=[SetLanguage(answers["lang"])])


LANGUAGE_FLOW = Flow(
    name=LANG_FLOW_NAME,
    first="lang",
    finish=_finish_language,
    steps={
        "lang": Step(
            ask=_("Choisissez votre langue."),
            answer=OneOf([Choice(code, Msg("{name}", {"name": name}))
                          for code, name in LANGUAGES.items()]),
        ),
    },
)
