//! Mail, in three steps: the [`outbox`] item written in the same transaction
//! as the change it tells of, the [`message`] it becomes, and the [`sender`]
//! (the `mailer` function) that sends it through Amazon SES from the outbox
//! table's stream.

pub mod message;
pub mod outbox;
pub mod sender;
