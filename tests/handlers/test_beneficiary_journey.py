"""The beneficiary journey as a newcomer meets it, each step a defect found from outside.

The clock starts on Monday 23 November 2026 at 10:00 in Paris; the demo's Veynes sessions
are on Thursdays at 14:00 (26 November, 3 and 10 December).
"""

from __future__ import annotations

from datetime import UTC, datetime

from flows.text import Msg
from tests.flows.test_beneficiary_texts import problems
from tests.handlers.test_beneficiaries import (
    book_first,
    join,
    make_staff,
    new_code,
    reminders,
    rows,
    run_job,
)
from tests.support import Chat, Clock, texts


async def test_a_code_typed_without_spaces_as_the_first_message_joins(chat: Chat):
    await make_staff(chat)
    code = await new_code(chat)
    sent = await chat.say("lea", code.replace(" ", ""))
    assert "Choisissez votre langue" in texts(sent, "lea")
    sent = await chat.say("paul", code.replace(" ", "").lower())
    assert "déjà servi" not in texts(sent, "paul")  # not used yet: Léa has not picked
    assert "Choisissez votre langue" in texts(sent, "paul")
