//! With `SECRETS_SEEN_FILE` set (make test-e2e), every password a test sends,
//! every token it sends or receives and every code it reads from a mail
//! ([`crate::mailbox`]; not the codes it makes up to be wrong, which are no
//! secret and may well be digits of some id) is appended to that file, one
//! `kind<TAB>value` a line, so that scripts/no-secrets-in-log.py can search the
//! function logs for them. scripts/test-e2e.sh adds the run's own secrets to
//! the same file (kinds `refresh_token_secret` and `signing_key`); the script
//! requires every kind, so a run that recorded no password or no token fails.

use serde_json::Value;

pub(crate) fn record_secrets_sent(authorization: Option<&str>, body: Option<&str>) {
    let bearer = authorization.and_then(|value| value.strip_prefix("Bearer "));
    record_secrets([("token", bearer)]);
    let Some(Ok(Value::Object(fields))) = body.map(serde_json::from_str::<Value>) else {
        return;
    };
    record_secrets(
        [
            ("password", "password"),
            ("password", "current_password"),
            ("password", "new_password"),
            ("token", "refresh_token"),
        ]
        .map(|(kind, field)| (kind, fields.get(field).and_then(Value::as_str))),
    );
}

pub(crate) fn record_secrets<'a>(values: impl IntoIterator<Item = (&'a str, Option<&'a str>)>) {
    use std::io::Write;
    let Some(path) = std::env::var_os("SECRETS_SEEN_FILE") else {
        return;
    };
    let lines: String = values
        .into_iter()
        .filter_map(|(kind, value)| Some((kind, value?.trim())))
        // Too short to be told apart from ordinary log text ("short", "garbage"),
        // or not a value a line can hold: not worth searching for.
        .filter(|(_, value)| (8..=1024).contains(&value.len()))
        .filter(|(_, value)| !value.chars().any(char::is_control))
        .map(|(kind, value)| format!("{kind}\t{value}\n"))
        .collect();
    if lines.is_empty() {
        return;
    }
    // One append per call, so lines from parallel tests do not interleave.
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .expect("SECRETS_SEEN_FILE can be opened");
    file.write_all(lines.as_bytes())
        .expect("SECRETS_SEEN_FILE can be written");
}
