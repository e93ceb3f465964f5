//! `keys`: creates, rotates and lists the access tokens' signing keys, the
//! `SIGNING_KEYS` document of shared/auth/src/keys.rs. See `keys --help`.
//!
//! Private keys go only where the document goes (stdout, the file or the
//! secret); messages on stderr name kids and states, never key material.

mod rotation;
mod secret;

use auth::tokens::keys::{KeySetDocument, generate_private_key_pem};
use rotation::{DEFAULT_MAX_TOKEN_LIFETIME_SECONDS, KeySource, NEW_KEY_BITS};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

const USAGE: &str = "\
usage: keys create [--kid-prefix P] [--force] [WHERE]
       keys rotate [--max-token-lifetime SECONDS] [--kid-prefix P] [WHERE]
       keys list [WHERE]

  create   a new key set: one current key (signs) and one next key (published,
           signs after the next rotation), RSA 2048, kids [P-]YYYY-MM-DD-<hex>
  rotate   next -> current, current -> retired, a new next key; drops retired
           keys retired more than --max-token-lifetime seconds ago (default
           2592000, the longest ACCESS_TOKEN_TTL_SECONDS allowed)
  list     kid, state, changed_at (epoch seconds, RFC 3339) per key, tab-separated;
           exits 1 if the set would not load

WHERE (default: the document on stdin, the result on stdout):
  --file PATH         read and rewrite PATH (written mode 600)
  --secret SECRET_ID  read and write the Secrets Manager secret
                      {\"signing_keys\": <document>, \"refresh_token_secret\": \"…\"}
                      (create makes a new refresh secret; rotate keeps it),
                      with the standard AWS configuration: AWS_REGION, credentials,
                      AWS_ENDPOINT_URL_SECRETS_MANAGER for a local one
  --force             (create) replace a file or secret that holds a key set already,
                      invalidating every token its keys signed
";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Command {
    Create,
    Rotate,
    List,
}

#[derive(Debug, PartialEq)]
enum Place {
    Stdio,
    File(PathBuf),
    Secret(String),
}

#[derive(Debug, PartialEq)]
struct Args {
    command: Command,
    place: Place,
    kid_prefix: Option<String>,
    max_token_lifetime: u64,
    force: bool,
}

/// What went wrong: a usage error (exit 2, with the usage) or a refusal or
/// failure (exit 1).
enum Failure {
    Usage(String),
    Failed(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self::Failed(message)
    }
}

/// Parses the arguments; None asks for the usage. Hand-rolled: three commands
/// and five options do not need a parser crate's build time.
fn parse_args(args: &[String]) -> Result<Option<Args>, String> {
    let mut args = args.iter();
    let command = match args.next().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => return Ok(None),
        Some("create") => Command::Create,
        Some("rotate") => Command::Rotate,
        Some("list") => Command::List,
        Some(other) => return Err(format!("unknown command {other:?}")),
    };
    let mut parsed = Args {
        command,
        place: Place::Stdio,
        kid_prefix: None,
        max_token_lifetime: DEFAULT_MAX_TOKEN_LIFETIME_SECONDS,
        force: false,
    };
    while let Some(arg) = args.next() {
        // Both `--name value` and `--name=value`.
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let allowed = match name {
            "-h" | "--help" => return Ok(None),
            "--file" | "--secret" => {
                if parsed.place != Place::Stdio {
                    return Err("give at most one of --file and --secret".into());
                }
                let value = value()?;
                if value.is_empty() {
                    return Err(format!("{name} needs a value"));
                }
                parsed.place = match name {
                    "--file" => Place::File(value.into()),
                    _ => Place::Secret(value),
                };
                true
            }
            "--kid-prefix" => {
                let prefix = value()?;
                rotation::check_kid_prefix(&prefix)?;
                parsed.kid_prefix = Some(prefix);
                command != Command::List
            }
            "--max-token-lifetime" => {
                parsed.max_token_lifetime = value()?
                    .parse()
                    .map_err(|_| "--max-token-lifetime takes whole seconds".to_owned())?;
                command == Command::Rotate
            }
            "--force" if inline.is_none() => {
                parsed.force = true;
                command == Command::Create
            }
            _ => return Err(format!("unknown option {arg:?}")),
        };
        if !allowed {
            return Err(format!("{name} does not apply to {command:?}").to_lowercase());
        }
    }
    Ok(Some(parsed))
}

/// A JSON error without the input: serde quotes a string of the wrong type,
/// which may be a private key, so a long or key-like message is replaced by
/// its position.
fn json_error(what: &str, error: &serde_json::Error) -> String {
    let message = error.to_string();
    if message.len() > 160 || message.contains("PRIVATE") {
        format!(
            "{what} (bad JSON at line {}, column {})",
            error.line(),
            error.column()
        )
    } else {
        format!("{what}: {message}")
    }
}

fn now() -> Result<u64, String> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .map_err(|_| "the clock is before 1970".to_owned())
}

/// Compact JSON, one line: the PEMs' newlines are escaped, so the document
/// fits an environment variable and an env file (`SIGNING_KEYS=…`) as is.
fn to_json(document: &KeySetDocument) -> Result<String, String> {
    serde_json::to_string(document).map_err(|e| format!("cannot encode the key set: {e}"))
}

fn parse_document(what: &str, json: &str) -> Result<KeySetDocument, String> {
    serde_json::from_str(json)
        .map_err(|e| json_error(&format!("{what} is not a key set document"), &e))
}

fn read_stdin() -> Result<String, String> {
    let mut stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err("reads the key set on stdin: pipe one in, or give --file or --secret".into());
    }
    let mut json = String::new();
    stdin
        .read_to_string(&mut json)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    Ok(json)
}

fn read_file(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes `contents` to `path` with mode 600, through a new file renamed over
/// the old one: an interrupted write never leaves half a key set, and the old
/// file's (possibly wider) mode does not carry over.
fn write_file(path: &Path, contents: &str) -> Result<(), String> {
    use std::os::unix::fs::OpenOptionsExt;
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let name = path
        .file_name()
        .ok_or_else(|| format!("{} is not a file name", path.display()))?;
    let temporary = path.with_file_name(format!(
        ".{}.keys-{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .and_then(|mut file| {
            file.write_all(contents.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(fail(error));
    }
    Ok(())
}

fn print_stdout(contents: &str) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(contents.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write stdout: {e}"))
}

/// Where the document and, for a secret, the rest of the secret came from.
async fn load(place: &Place) -> Result<(KeySetDocument, Option<secret::SecretDocument>), String> {
    match place {
        Place::Stdio => Ok((parse_document("stdin", &read_stdin()?)?, None)),
        Place::File(path) => {
            let what = path.display().to_string();
            Ok((parse_document(&what, &read_file(path)?)?, None))
        }
        Place::Secret(id) => {
            let stored = secret::read(&secret::client().await?, id).await?;
            Ok((stored.signing_keys.clone(), Some(stored)))
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let now = now()?;
    let mut new_pem = || generate_private_key_pem(NEW_KEY_BITS);
    let mut source = KeySource {
        kid_prefix: args.kid_prefix.as_deref(),
        new_pem: &mut new_pem,
    };
    match args.command {
        Command::Create => {
            let document = rotation::create(now, &mut source)?;
            let summary = rotation::check(&document)?;
            match &args.place {
                Place::Stdio => print_stdout(&(to_json(&document)? + "\n"))?,
                Place::File(path) => {
                    let holds_something = std::fs::metadata(path).is_ok_and(|m| m.len() > 0);
                    if holds_something && !args.force {
                        return Err(format!(
                            "{} exists: rotate it (`keys rotate --file {0}`), or pass --force \
                             to replace it and invalidate every token its keys signed",
                            path.display()
                        ));
                    }
                    write_file(path, &(to_json(&document)? + "\n"))?;
                }
                Place::Secret(id) => {
                    let stored = secret::SecretDocument::new(document)?;
                    secret::create(&secret::client().await?, id, &stored, args.force).await?;
                }
            }
            eprintln!("keys: created {summary}");
        }
        Command::Rotate => {
            let (document, stored) = load(&args.place).await?;
            let rotation = rotation::rotate(document, now, args.max_token_lifetime, &mut source)?;
            let summary = rotation::check(&rotation.document)?;
            for warning in &rotation.warnings {
                eprintln!("keys: warning: {warning}");
            }
            match (&args.place, stored) {
                (Place::Stdio, _) => print_stdout(&(to_json(&rotation.document)? + "\n"))?,
                (Place::File(path), _) => write_file(path, &(to_json(&rotation.document)? + "\n"))?,
                (Place::Secret(id), Some(mut stored)) => {
                    // The refresh secret and any other field stay as they were.
                    stored.signing_keys = rotation.document;
                    secret::write(&secret::client().await?, id, &stored).await?;
                }
                (Place::Secret(_), None) => unreachable!("a secret loads with its fields"),
            }
            if !rotation.dropped.is_empty() {
                eprintln!("keys: dropped {}", rotation.dropped.join(", "));
            }
            eprintln!("keys: rotated to {summary}");
        }
        Command::List => {
            let (document, _) = load(&args.place).await?;
            let mut lines = String::new();
            for key in &document.keys {
                let state = serde_json::to_value(key.state).unwrap_or_default();
                let (epoch, date) = match key.changed_at {
                    Some(at) => (at.to_string(), auth::rfc3339(at)),
                    None => ("-".into(), "-".into()),
                };
                lines += &format!(
                    "{}\t{}\t{epoch}\t{date}\n",
                    key.kid,
                    state.as_str().unwrap_or("?")
                );
            }
            print_stdout(&lines)?;
            // Listing is also the check an operator runs before trusting a set.
            rotation::check(&document).map_err(|e| format!("this set would not load: {e}"))?;
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match parse_args(&args) {
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Some(args)) => run(args).await.map_err(Failure::from),
        Err(message) => Err(Failure::Usage(message)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("keys: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(message)) => {
            eprintln!("keys: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Option<Args>, String> {
        parse_args(
            &line
                .split_whitespace()
                .map(String::from)
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn arguments() {
        let rotate = parse("rotate --secret auth/keys --max-token-lifetime=3600")
            .unwrap()
            .unwrap();
        assert_eq!(rotate.command, Command::Rotate);
        assert_eq!(rotate.place, Place::Secret("auth/keys".into()));
        assert_eq!(rotate.max_token_lifetime, 3600);
        let create = parse("create --file k.json --kid-prefix prod --force")
            .unwrap()
            .unwrap();
        assert_eq!(create.place, Place::File("k.json".into()));
        assert_eq!(
            (create.kid_prefix.as_deref(), create.force),
            (Some("prod"), true)
        );
        assert_eq!(
            parse("list").unwrap().unwrap().max_token_lifetime,
            2_592_000
        );
        assert!(parse("").unwrap().is_none() && parse("list --help").unwrap().is_none());
        for (line, fault) in [
            ("list --max-token-lifetime 5", "does not apply to list"),
            ("rotate --force", "does not apply to rotate"),
            ("create --file a --secret b", "at most one"),
            ("rotate --max-token-lifetime", "needs a value"),
            ("rotate --max-token-lifetime 1d", "whole seconds"),
            ("create --kid-prefix a/b", "--kid-prefix"),
            ("rotate --flie x", "unknown option"),
            ("delete", "unknown command"),
        ] {
            let message = parse(line).err().unwrap_or_default();
            assert!(message.contains(fault), "{line}: {message:?}");
        }
    }

    #[test]
    fn json_errors_never_quote_a_key() {
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{}\n", "A".repeat(300));
        let json = serde_json::json!({"keys": pem}).to_string();
        let message = parse_document("stdin", &json).err().unwrap();
        assert!(
            !message.contains("AAAA") && message.contains("line 1"),
            "{message}"
        );
        let message = parse_document("stdin", r#"{"keys": [{"kid": "a"}]}"#)
            .err()
            .unwrap();
        assert!(message.contains("missing field `state`"), "{message}");
    }
}
