-- Chats a platform refused the bot's messages to: the person blocked the bot (Telegram's
-- my_chat_member "kicked", or a 403 when sending), or never opened it (Telegram's 400 "chat
-- not found"). Nothing more is sent to a blocked chat until the person comes back (unblocks
-- or writes); messages to someone who never opened the bot wait in the outbox until they
-- first write. The row goes as soon as they do.
CREATE TABLE unreachable (
    recipient TEXT PRIMARY KEY,           -- an account key: tg:123
    reason    TEXT NOT NULL CHECK (reason IN ('blocked', 'not_started')),
    since     TEXT NOT NULL
);
