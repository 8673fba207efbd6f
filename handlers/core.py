"""The router: incoming messages in, one transaction a batch, replies and notices to the outbox.

Order of precedence for what the user said: a redelivered event is dropped; an expired
conversation is ended and the user told; a file is offered to the features that read files;
a device's label (a sticker scanned) answers a question asking for a device; a command
word works everywhere; a picked action choice (from a notice or a menu) is carried out;
inside a conversation the flow reads the answer; outside one, a number or label answers the
last menu, and anything else gets the home menu.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flows import actions as declared_actions
from flows import engine
from flows.action_codec import Action, Command, declared, parse
from flows.answers import Input, match_choice
from flows.devices import LabelQuestion, read_label
from flows.engine import Cancelled, Conversation, Ctx, Effect, Flow, Translator, Turn
from flows.home import home as front_door
from flows.messages import Choice, Incoming, Pressed, Reach, Reply, UserKey, platform_of
from flows.normalize import fold
from flows.ports import Storage, StorageUnavailable, UnitOfWork, Unreached
from flows.records import User
from flows.territory import Territory
from flows.text import Msg, _, from_json, to_json
from handlers.authorize import authorised, may_use, refusal
from handlers.session import (
    UNKNOWN,
    ActionHandler,
    CommandHandler,
    EffectHandler,
    FactsLoader,
    Feature,
    FileHandler,
    HomeHandler,
    Job,
    MoreFacts,
    Session,
)

log = logging.getLogger(__name__)

MENU_WORDS = frozenset({"menu", "/menu", "accueil", "home", "/start", "bonjour", "hello"})


@dataclass(frozen=True)
class CoreConfig:
    """Settings the router needs, read once by ``bot/``."""

    coordinators: tuple[UserKey, ...]
    default_lang: str
    languages: tuple[str, ...]
    conversation_ttl: timedelta
    timezone: ZoneInfo
    """The network's time zone: local days and times (``Ctx.today``, ``Ctx.local``)."""


class Core:
    """Routes every incoming message to a command, an action, or the user's conversation."""

    def __init__(
        self,
        storage: Storage,
        territory: Territory,
        config: CoreConfig,
        features: Sequence[Feature],
        *,
        clock: Callable[[], datetime],
        translator: Callable[[str], Translator],
        check_phone: Callable[[str], str | None],
        check_email: Callable[[str], str | None],
        wake: Callable[[], None] = lambda: None,
        unavailable: Callable[[UserKey, Msg, str], Awaitable[None]] | None = None,
        copies: Callable[[Session], Awaitable[None]] | None = None,
    ) -> None:
        self.storage = storage
        self.copies = copies
        """Queues copies of what a message says elsewhere than the chat (notices by e-mail:
        ``handlers.mail.copy_notices``), in its transaction; ``None``: none."""
        self.unavailable = unavailable
        """Says something to someone straight away, outside the outbox (which cannot be
        written when the database is the problem)."""
        self.territory = territory
        self.config = config
        self.clock = clock
        self.translator = translator
        self.check_phone = check_phone
        self.check_email = check_email
        self.wake = wake
        self.flows: dict[str, Flow] = engine.registry([f for ft in features for f in ft.flows])
        self.actions: dict[type[Action], ActionHandler] = {}
        self.effects: dict[type[Effect], EffectHandler] = {}
        self.command_handlers: dict[str, CommandHandler] = {}
        self.facts: dict[str, FactsLoader] = {}
        self.more_facts: dict[str, MoreFacts] = {}
        self.jobs: list[Job] = [job for feature in features for job in feature.jobs]
        self.files: list[FileHandler] = [h for feature in features for h in feature.files]
        self.homes: list[HomeHandler] = [f.home for f in features if f.home is not None]
        for feature in features:
            for table, extra in ((self.actions, feature.actions), (self.effects, feature.effects),
                                 (self.command_handlers, feature.commands),
                                 (self.facts, feature.facts),
                                 (self.more_facts, feature.more_facts)):
                clash = set(table) & set(extra)
                if clash:
                    raise ValueError(f"feature {feature.name} redefines {sorted(map(str, clash))}")
                table.update(extra)  # type: ignore[attr-defined]
        unhandled = set(declared().values()) - set(self.actions)
        if unhandled:
            prefixes = sorted(kind.prefix for kind in unhandled)
            raise ValueError(f"declared actions nobody handles: {prefixes}")
        self.commands: dict[str, Command] = {
            word: command for command in declared_actions.COMMANDS for word in command.words
            if command.name in self.command_handlers}

    async def home(self, session: Session, first_time: bool) -> Reply:
        """The home menu of this person's role: a feature's (a beneficiary's own), else the
        front door's."""
        for home_of in self.homes:
            reply = await home_of(session, first_time)
            if reply is not None:
                return reply
        return front_door(session.user, first_time)

    def _whole(self, text: str) -> Command | None:
        """The command a whole message is shaped like (``REJ7K3M9P``: a join code)."""
        return next((command for command in declared_actions.COMMANDS
                     if command.whole is not None and command.name in self.command_handlers
                     and command.whole.fullmatch(text)), None)

    def _label_asked(self, conversation: Conversation | None, text: str) -> str | None:
        """The device label ``text`` gives when the open question asks for a device: a
        sticker scanned (Telegram opens its deep link as ``/start d-HA-7K3P``), or the label
        typed, even as a command. None otherwise: then a label opens the device's card."""
        flow = self.flows.get(conversation.flow) if conversation is not None else None
        if flow is None or conversation is None:  # none open, or of a flow gone since
            return None
        step = flow.steps.get(engine.resume(flow, conversation).step)
        if step is None or not isinstance(step.answer, LabelQuestion):
            return None
        return read_label(text)

    def language_of(self, hint: str | None) -> str:
        """The platform's language hint (``fr-FR``, ``en``) if we speak it, else the default."""
        if hint:
            code = hint.replace("_", "-").split("-")[0].lower()
            if code in self.config.languages:
                return code
        return self.config.default_lang

    def ctx_for(self, user: User, now: datetime) -> Ctx:
        return Ctx(
            now=now,
            user=user,
            territory=self.territory,
            translate=self.translator(user.lang or self.config.default_lang),
            check_phone=self.check_phone,
            check_email=self.check_email,
            tz=self.config.timezone,
        )

    async def handle(self, incoming: Incoming) -> bool:
        """Handle one platform event; everything it changes and sends commits together."""
        return await self.handle_batch((incoming,))

    async def handle_batch(self, incomings: Sequence[Incoming]) -> bool:
        """Handle platform events received together, in order, in one transaction.

        Why one: a commit is the dearest step of a short message, and a platform hands
        events over in batches (a Telegram ``getUpdates`` answer holds up to a hundred);
        committing them together is SQLite's group commit. Each event is a savepoint of
        its own: one that fails on a bug is rolled back alone and logged, the others kept.

        When the database cannot take the write (locked past the busy timeout, disk full),
        the transaction is rolled back whole and each person is told at once to try again;
        then False is returned (True once committed).
        """
        if not incomings:
            return True
        try:
            async with self.storage.transaction() as uow:
                for incoming in incomings:
                    try:
                        async with uow.part():
                            await self._handle(uow, incoming)
                    except StorageUnavailable:
                        raise
                    except Exception:
                        ref = secrets.token_hex(3).upper()
                        log.exception("event %s of %s not handled (ref. %s)",
                                      incoming.event_id, incoming.user, ref)
                        await self._apologise(uow, incoming, ref)
        except StorageUnavailable as exc:
            log.error("storage unavailable, %s message(s) not handled: %s", len(incomings),
                      exc)
            if self.unavailable is not None:
                told = {incoming.user: incoming.lang_hint for incoming in incomings}
                for user, hint in told.items():
                    await self.unavailable(user, _(
                        "Le service est momentanément indisponible, réessayez dans quelques "
                        "minutes."), self.language_of(hint))
            return False
        self.wake()
        return True

    async def _handle(self, uow: UnitOfWork, incoming: Incoming) -> None:
        now = self.clock()
        if incoming.event_id is not None:
            event = f"{platform_of(incoming.user)}:{incoming.event_id}"
            if not await uow.events.first_time(event, now):
                log.info("event %s already handled, dropped", event)
                return
        if incoming.reach is not None:
            await self._reach(uow, incoming.user, incoming.reach, now)
            return
        user = await uow.users.get(incoming.user)
        first_time = user is None
        if user is None:
            user = await uow.users.create(
                incoming.user, self.language_of(incoming.lang_hint), now
            )
            log.info("new user %s", user.key)
            # Notices may wait for someone who had never opened the bot ("chat not found").
            await uow.reach.back(incoming.user)
        elif user.unreached:
            await uow.reach.back(incoming.user)
            log.info("%s writes again: messages to them resume", user.key)
        session = Session(uow, user, now, self.ctx_for(user, now), self.config.coordinators,
                          self.start_flow)
        await self._route(session, incoming, first_time)
        await self._queue(session)

    async def _reach(self, uow: UnitOfWork, key: UserKey, reach: Reach, now: datetime) -> None:
        """A person blocked the bot (nothing more is sent to them) or came back (what waits
        for them goes out)."""
        if reach is Reach.BLOCKED:
            await uow.reach.refused(key, Unreached.BLOCKED, now)
            log.info("%s blocked the bot: nothing is sent to them until they come back", key)
        elif await uow.reach.back(key):
            log.info("%s is back: messages to them resume", key)

    async def _queue(self, session: Session) -> None:
        """Write what was said to the outbox, and each action menu as its recipient's last.

        The buttons of a question to the person who spoke are bound to that question
        (``engine.bind``): a press on an older question's keyboard is then told apart from an
        answer to the current one, whatever their choice ids ("yes", "ok").
        """
        asking = session.asking
        for index, message in enumerate(session.outgoing):
            if (message.to == session.user.key and not message.is_action_menu
                    and any(engine.unbind(c.id) is None and parse(c.id) is None
                            for c in message.choices)):
                if asking is UNKNOWN:
                    saved = await session.uow.conversations.get(session.user.key)
                    asking = saved.conversation if saved else None
                if asking is not None:
                    bound = engine.bind_reply(Reply([], list(message.choices)), asking)
                    message = replace(message, choices=tuple(bound.choices))
                    session.outgoing[index] = message
            await session.uow.outbox.add(message, session.now)
            if message.is_action_menu:
                await session.uow.menus.set(
                    message.to, [(c.id, to_json(c.label)) for c in message.choices]
                )
        if self.copies is not None:
            await self.copies(session)

    async def _apologise(self, uow: UnitOfWork, incoming: Incoming, ref: str) -> None:
        """After a message failed on a bug and was rolled back: say so with the reference of
        the log line, then ask the question again. Nothing is routed again: if this fails
        too, it is logged and the batch goes on."""
        try:
            async with uow.part():
                now = self.clock()
                user = await uow.users.get(incoming.user)
                first_time = user is None  # the first contact was rolled back with the message
                if user is None:
                    user = User(incoming.user, self.language_of(incoming.lang_hint), now)
                session = Session(uow, user, now, self.ctx_for(user, now),
                                  self.config.coordinators, self.start_flow)
                session.say(_("Désolé, un problème technique nous a empêchés de traiter votre "
                              "message (réf. {ref}). Réessayez ; si cela se reproduit, donnez "
                              "cette référence à l'équipe du réseau.", ref=ref))
                try:
                    await self._ask_again(session, first_time)
                except StorageUnavailable:
                    raise
                except Exception:
                    log.exception("ref. %s: the question of %s not asked again", ref,
                                  incoming.user)
                await self._queue(session)
        except StorageUnavailable:
            raise
        except Exception:
            log.exception("ref. %s: %s not told of the failure", ref, incoming.user)

    async def _ask_again(self, session: Session, first_time: bool) -> None:
        """The current step's question of a saved conversation, or else the home menu."""
        saved = await session.uow.conversations.get(session.user.key)
        flow = self.flows.get(saved.conversation.flow) if saved else None
        if (saved is not None and flow is not None
                and session.now - saved.updated_at <= self.config.conversation_ttl):
            await self._load_facts(session, flow.name)
            await self._more_facts(session, flow.name, saved.conversation)
            session.reply(engine.ask(flow, saved.conversation, session.ctx))
            session.asking = saved.conversation
        else:
            session.reply(await self.home(session, first_time), action_menu=True)

    async def _route(self, session: Session, incoming: Incoming, first_time: bool) -> None:
        uow, user = session.uow, session.user
        saved = await uow.conversations.get(user.key)
        conversation = saved.conversation if saved else None
        if saved and session.now - saved.updated_at > self.config.conversation_ttl:
            await uow.conversations.clear(user.key)
            hours = int(self.config.conversation_ttl.total_seconds() // 3600)
            session.say(_("Votre conversation en cours a expiré après {hours} h sans réponse. "
                          "Rien n'a été enregistré : reprenons depuis le début.", hours=hours))
            session.reply(await self.home(session, False), action_menu=True)
            return
        if conversation is not None and conversation.flow not in self.flows:
            await uow.conversations.clear(user.key)
            conversation = None

        if incoming.attachment is not None:
            for on_file in self.files:
                if await on_file(session, incoming.attachment):
                    return
        text = incoming.text.strip()
        label = self._label_asked(conversation, text) if incoming.choice is None else None
        if label is not None:
            text = label  # a sticker scanned answers the question, as the label typed
        word = fold(text.split(" ", 1)[0]) if text else ""
        if incoming.choice is None and label is None and (text.startswith("/")
                                                          or not conversation):
            command = (self.commands.get(word) or self.commands.get(fold(text))
                       or self.commands.get(word.split(" ")[0]) or self._whole(text))
            if command is not None:
                if not await may_use(session, command):
                    log.warning("%s refused the command %s", user.key, command.name)
                    session.say(refusal())
                    return
                await self.command_handlers[command.name](session, text)
                return
        if incoming.choice is None and word in MENU_WORDS and (
            not conversation or text.startswith("/") or fold(text) in MENU_WORDS
        ):
            if conversation is not None:
                await uow.conversations.clear(user.key)
            session.reply(await self.home(session, first_time), action_menu=True)
            return

        pressed = incoming.pressed
        answer: engine.BoundChoice | None = None
        if incoming.choice is not None:
            answer = engine.unbind(incoming.choice)
            action = parse(incoming.choice) if answer is None else None
            if action is not None:
                if await self.act(session, action) and pressed is not None:
                    session.mark_pressed(pressed, taken=True)
                return
        if conversation is not None:
            flow = self.flows[conversation.flow]
            given = Input(text, incoming.choice)
            await self._load_facts(session, flow.name)
            if incoming.choice is not None and (
                answer is None or answer.question != engine.question_token(conversation)
            ):
                self._stale(session, flow, conversation, pressed)
                return
            given = Input(text, answer.choice if answer is not None else None)
            turn = engine.handle(flow, conversation, given, session.ctx)
            if await self._more_facts(session, flow.name, turn.conversation):
                turn = engine.handle(flow, conversation, given, session.ctx)
            await self._apply(session, turn, pressed)
            return
        picked = await self._from_last_menu(session, Input(text, incoming.choice))
        if picked is not None:
            action = parse(picked)
            if action is not None:
                if await self.act(session, action) and pressed is not None:
                    session.mark_pressed(pressed, taken=True)  # a button sent by its number
                return
        if first_time:
            session.reply(await self.home(session, True), action_menu=True)
            return
        if incoming.choice is not None:
            session.say(_("Ce bouton n'est plus valable."))
            if pressed is not None:
                session.mark_pressed(pressed, taken=False)
        else:
            session.say(_("Je n'ai pas compris. Choisissez dans le menu :"))
        session.reply(await self.home(session, False), action_menu=True)

    def _stale(self, session: Session, flow: Flow, conversation: engine.Conversation,
               pressed: Pressed | None) -> None:
        """A button of another question than the current one (an older keyboard, whose
        choice ids may well mean something else here): not taken; the current question is
        asked again, and the old keyboard taken away."""
        log.info("%s pressed a button of another question of %s", session.user.key, flow.name)
        again = engine.ask(flow, conversation, session.ctx)
        session.reply(Reply([_("Ce bouton répond à une question précédente : il n'est pas pris "
                               "en compte. La question en cours :"), *again.texts],
                            again.choices))
        session.asking = conversation
        if pressed is not None:
            session.mark_pressed(pressed, taken=False)

    async def run_job(self, job: Job) -> int:
        """Run one periodic job now, then wake the dispatcher for what it queued. Among the
        processes sharing one database, one runs it; the others skip this turn."""
        async with self.storage.exclusive(f"job:{job.name}") as mine:
            if not mine:
                return 0
            done = await job.run(self.storage, self.clock())
        if done:
            self.wake()
        return done

    async def act(self, session: Session, action: Action) -> bool:
        """Carry out a button if its declaration allows the person on its target; refuse
        otherwise, the same way whether the target is someone else's or does not exist.
        True when carried out."""
        if not await authorised(session, action):
            log.warning("%s refused %s", session.user.key, action.prefix)
            session.say(refusal())
            return False
        await self.actions[type(action)](session, action)
        return True

    async def _from_last_menu(self, session: Session, given: Input) -> str | None:
        """Read "2" or a label as an answer to the last action menu the user was shown."""
        stored = await session.uow.menus.get(session.user.key)
        options = [Choice(cid, from_json(label)) for cid, label in stored]
        picked = match_choice(given, options, session.ctx)
        return picked.id if picked else None

    async def start_flow(
        self, session: Session, name: str, answers: dict[str, Any] | None = None
    ) -> None:
        """Begin a conversation (from an action or a command), optionally with answers."""
        await self._load_facts(session, name)
        turn = engine.start(self.flows[name], session.ctx, answers)
        if await self._more_facts(session, name, turn.conversation):
            turn = engine.start(self.flows[name], session.ctx, answers)
        await self._apply(session, turn)

    async def _load_facts(self, session: Session, flow_name: str) -> None:
        loader = self.facts.get(flow_name)
        if loader is not None:
            facts = await loader(session.uow, session.user)
            session.ctx = replace(session.ctx, facts=facts)

    async def _more_facts(self, session: Session, flow_name: str,
                          conversation: Conversation | None) -> bool:
        """Add what the question ``conversation`` is at reads besides the loader's facts;
        True when something was added (the turn that led there is to be taken again)."""
        more = self.more_facts.get(flow_name)
        if more is None or conversation is None:
            return False
        facts = await more(session.uow, session.user, session.ctx.facts, conversation)
        if facts is None:
            return False
        session.ctx = replace(session.ctx, facts=facts)
        return True

    async def _apply(self, session: Session, turn: Turn, pressed: Pressed | None = None) -> None:
        """Save where the conversation stands, queue the replies, carry out the effects.

        When the turn came from a button (``pressed``), that message shows the pick and
        loses its buttons, or is replaced by the question updated (a multi-select's ticks).
        """
        if turn.conversation is None:
            await session.uow.conversations.clear(session.user.key)
        else:
            await session.uow.conversations.save(session.user.key, turn.conversation, session.now)
        session.asking = turn.conversation if not turn.effects else UNKNOWN
        replaced = False
        for reply in turn.replies:
            if reply.in_place and pressed is not None and not replaced:
                session.replace(pressed, reply)
                replaced = True
            else:
                session.reply(reply)
        if pressed is not None and not replaced:
            session.mark_pressed(pressed, taken=turn.accepted)
        for effect in turn.effects:
            if isinstance(effect, Cancelled):
                session.reply(await self.home(session, False), action_menu=True)
                continue
            handler = self.effects.get(type(effect))
            if handler is None:
                raise LookupError(f"no handler for effect {type(effect).__name__}")
            await handler(session, effect)
