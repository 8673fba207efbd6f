"""How long declaring a lot takes: a company giving 12 laptops and 3 screens (issue 19).

The donor here answers each question by what it asks, not by its place in the flow, so the
same test measures the declaration before and after it was shortened: every answer the donor
gives from the home menu to the confirmation, and the buttons of the summary they check.
"""

from __future__ import annotations

from bot.i18n import Rendered
from tests.support import Chat, texts

COMPANY = [
    # (what the question says, what the company answers), first match wins
    ("Vous donnez en tant que", "Une entreprise"),
    ("Nom de votre structure", "ACME Informatique 732 829 320 00074"),
    ("SIRET", "73282932000074"),
    ("personne à contacter", "Jeanne Dupont"),
    ("téléphone ou un e-mail", "06 12 34 56 78"),
    ("Quel matériel donnez-vous ? Choisissez", "1, 3"),
    ("Combien d'ordinateurs portables", "12"),
    ("Combien d'écrans", "3"),
    ("Quel matériel donnez-vous", "12 portables, 3 écrans"),
    ("son âge, son état, ses chargeurs", "De 5 à 8 ans, À tester, Chargeurs fournis"),
    ("Quel âge", "De 5 à 8 ans"),
    ("Dans quel état", "À tester"),
    ("chargeurs", "Oui"),
    ("Que contiennent encore les appareils", "Données de clients ou d'usagers"),
    ("contiennent-ils encore des données", "Oui"),
    ("Quels types de données", "Données de clients ou d'usagers"),
    ("disques sont-ils chiffrés", "Non"),
    ("certificat qui détaille chaque appareil", "Non, un certificat pour le lot suffit"),
    ("assister à l'effacement", "Non"),
    ("Dans quelle commune se trouve le matériel", "veynes"),
    ("Autre chose à savoir", "Rien de plus"),
    ("Ce que nous ferons", "1"),
    ("Comment le matériel nous parvient-il", "1"),
    ("Où déposez-vous le matériel", "1"),
]

SUMMARY = "Vérifiez avant d'envoyer"
RECEIPT = "Votre don est enregistré"


def question(sent: list[Rendered], who: str) -> Rendered:
    """The last message the donor received: the question in front of them."""
    return [m for m in sent if m.to == f"cli:{who}"][-1]


def answer_to(asked: str) -> str:
    for says, answer in COMPANY:
        if says in asked:
            return answer
    raise AssertionError(f"the company does not know what to answer to:\n{asked}")


async def declare_as_company(chat: Chat, who: str = "acme") -> tuple[int, Rendered]:
    """Declare the lot from the home menu to the summary; the answers given, and the
    summary."""
    await chat.say(who, "bonjour")
    sent = await chat.say(who, "2")  # Je veux donner du matériel
    answers = 1
    while SUMMARY not in (asked := question(sent, who)).text:
        assert answers < 40, "the declaration never ends"
        sent = await chat.say(who, answer_to(asked.text))
        answers += 1
    return answers, asked


async def test_a_company_lot_takes_twelve_answers_and_a_short_summary(chat: Chat):
    """12 laptops and 3 screens: at most 12 answers (22 before), and a summary of at most 6
    buttons (20 before): confirm, or choose which part to change."""
    answers, summary = await declare_as_company(chat)
    sent = await chat.say("acme", "Confirmer")
    answers += 1
    assert RECEIPT in texts(sent, "acme")
    print(f"company lot: {answers} answers, summary of {len(summary.choices)} buttons")
    assert answers <= 12
    assert len(summary.choices) <= 6


async def test_each_part_of_the_summary_asks_its_few_questions_then_the_summary(chat: Chat):
    _answers, summary = await declare_as_company(chat)
    parts = [label for _, label in summary.choices if label.startswith("Modifier : ")]
    assert len(parts) == 5
    for part in parts:
        sent = await chat.say("acme", part)
        asked = 0
        while SUMMARY not in question(sent, "acme").text:
            assert "Réponse actuelle" in question(sent, "acme").text
            sent = await chat.say("acme", "Garder cette réponse")
            asked += 1
        assert 1 <= asked <= 2, part
    sent = await chat.say("acme", "Confirmer")
    assert RECEIPT in texts(sent, "acme")
