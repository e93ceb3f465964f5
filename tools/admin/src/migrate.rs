//! `migrate`: brings every item of the users table to today's format
//! (`auth::store::dynamo::formats`), at a pace given on the command line.
//! See `migrate --help` and docs/operating.md.

use auth::store::dynamo::migrate::{Migration, Progress};
use auth::store::dynamo::schema::Item;
use auth::store::dynamo::{DynamoStore, sdk_config};
use aws_sdk_dynamodb::types::AttributeValue;
use std::path::PathBuf;
use std::process::ExitCode;

const USAGE: &str = "\
usage: migrate --rate WRITES_PER_SECOND [--limit WRITES] [--checkpoint FILE]

  Upgrades the users table's items written by older versions in place, each
  exactly once: safe to run again, to run while the service serves, and to
  stop at any point.

  --rate        writes a second at most (each upgrade is one; so is each page
                read): keep it well under the table's write capacity.
  --limit       stop after this many writes (a first run to watch).
  --checkpoint  where the run's position is kept after every page; a run
                given the same file goes on from there, and a finished run
                removes it. Without it a rerun starts from the beginning and
                finds what is done already current.

The users table is USERS_TABLE, with the standard AWS configuration
(AWS_REGION, credentials, AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local).
";

struct Args {
    rate: u32,
    limit: Option<u64>,
    checkpoint: Option<PathBuf>,
}

fn parse(args: &[String]) -> Option<Args> {
    let mut parsed = Args {
        rate: 0,
        limit: None,
        checkpoint: None,
    };
    let mut args = args.iter();
    while let Some(flag) = args.next() {
        let value = args.next()?;
        match flag.as_str() {
            "--rate" => parsed.rate = value.parse().ok().filter(|rate| *rate > 0)?,
            "--limit" => parsed.limit = Some(value.parse().ok()?),
            "--checkpoint" => parsed.checkpoint = Some(PathBuf::from(value)),
            _ => return None,
        }
    }
    (parsed.rate > 0).then_some(parsed)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if matches!(args.as_slice(), [flag] if flag == "--help" || flag == "-h") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let Some(args) = parse(&args) else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    match run(&args).await {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("migrate: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args) -> Result<String, String> {
    let users_table = std::env::var("USERS_TABLE")
        .ok()
        .filter(|table| !table.trim().is_empty())
        .ok_or("USERS_TABLE is required but not set")?;
    let store = DynamoStore::users_only(
        aws_sdk_dynamodb::Client::new(&sdk_config().await),
        users_table,
    );
    let resume_from = match &args.checkpoint {
        Some(path) if path.exists() => read_checkpoint(path)?,
        _ => None,
    };
    let migration = Migration {
        rate: args.rate,
        limit: args.limit,
        resume_from,
    };
    let mut saved = Ok(());
    let progress = store
        .migrate(&migration, |progress| {
            eprintln!("migrate: {}", summary(progress));
            if let (Some(path), Ok(())) = (&args.checkpoint, &saved) {
                saved = write_checkpoint(path, progress.resume_from.as_ref());
            }
        })
        .await
        .map_err(|error| error.0)?;
    saved?;
    if !progress.finished {
        return Ok(format!(
            "stopped at the limit: {}; run again to go on",
            summary(&progress)
        ));
    }
    if let Some(path) = &args.checkpoint {
        std::fs::remove_file(path).ok();
    }
    Ok(format!("done: {}", summary(&progress)))
}

fn summary(progress: &Progress) -> String {
    format!(
        "{} scanned, {} upgraded, {} old sessions deleted, {} done by another writer",
        progress.scanned, progress.upgraded, progress.deleted, progress.raced
    )
}

/// A checkpoint is the scan's next key, as JSON: `{"pk": "…", "sk": "…"}`,
/// or `{}` when the run is done.
fn write_checkpoint(path: &PathBuf, key: Option<&Item>) -> Result<(), String> {
    let strings = key
        .into_iter()
        .flatten()
        .filter_map(|(name, value)| match value {
            AttributeValue::S(text) => Some((name.clone(), serde_json::Value::from(text.clone()))),
            _ => None,
        });
    let json = serde_json::Value::Object(strings.collect());
    std::fs::write(path, json.to_string())
        .map_err(|error| format!("cannot write {}: {error}", path.display()))
}

fn read_checkpoint(path: &PathBuf) -> Result<Option<Item>, String> {
    let unreadable = |why: String| format!("checkpoint {}: {why}", path.display());
    let text = std::fs::read_to_string(path).map_err(|error| unreadable(error.to_string()))?;
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&text).map_err(|error| unreadable(error.to_string()))?;
    let key = json
        .into_iter()
        .map(|(name, value)| match value {
            serde_json::Value::String(text) => Ok((name, AttributeValue::S(text))),
            _ => Err(unreadable(format!("{name} is not a string"))),
        })
        .collect::<Result<Item, String>>()?;
    Ok((!key.is_empty()).then_some(key))
}
