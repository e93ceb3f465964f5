//! IAM (issue 11): each function's DynamoDB permissions in template.yaml,
//! against what its endpoint's description says (`storage`, beside the
//! handler; the authorizer's token check and the mailer's grants are here):
//! the actions each function may take, on which table, and on the users
//! table for which partition-key prefixes (`dynamodb:LeadingKeys`). Widening
//! any of them (an action, a prefix, a table, a wildcard, a statement of a
//! shape this test does not read) fails here until the description says so
//! too, so that it is a visible change in a review. The prefixes are built
//! from the service's key schema (`auth::store::dynamo::schema`), never
//! spelled here.
//!
//! And the other way round: every request the functions send DynamoDB on a
//! walk through every endpoint (in-process over DynamoDB Local, requests seen
//! on the SDK client) is one their policy in template.yaml allows, so that a
//! policy narrowed too far fails here rather than as AccessDenied (a 503) in
//! a deployment. The walk needs `make test`'s DynamoDB Local; the rest needs
//! nothing.

use auth::Config;
use auth::Endpoint::{self, *};
use auth::endpoint::authenticate::TOKEN_CHECK;
use auth::endpoint::{Guard, Needs};
use auth::mail::outbox::MailKind;
use auth::store::access::{Access, Table};
use auth::store::dynamo::schema::{self, sessions_pk, user_pk};
use serde_json::Value;
use serde_yaml_ng::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use test_support::mailbox::latest_code;
use test_support::traffic::{RequestLog, Sent, app_watched_by};
use test_support::*;

/// The tables, by their logical ids in template.yaml.
const USERS: &str = "UsersTable";
/// The users table's listing index, as the template's ARN for it names it.
const USERS_INDEX: &str = "UsersTable/index/UsersByRegistration";
const USERS_INDEX_ARN: &str = "${UsersTable.Arn}/index/UsersByRegistration";
const REVOKED: &str = "RevokedTokensTable";
/// The Secrets Manager secret of the signing keys and the refresh-token
/// secret, as the template names it (by the `AuthSecretName` parameter; the
/// `-*` stands for the six characters Secrets Manager appends to its name).
const SECRET: &str = "AuthSecret";
const SECRET_ARN: &str = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AuthSecretName}-*";
/// The one action a function may take on the secret.
const READ_SECRET: &str = "secretsmanager:GetSecretValue";
/// The mail pipeline's resources, by their logical ids (or, for the ARNs the
/// template builds with `!Sub`, names given here): the outbox table, its
/// stream (and its streams, for `ListStreams`), the SES identity the mailer
/// sends as, and the dead-letter queue of the mails it gave up on.
const OUTBOX: &str = "OutboxTable";
const OUTBOX_STREAM: &str = "OutboxTable.StreamArn";
const OUTBOX_STREAMS: &str = "OutboxTable/stream/*";
const OUTBOX_STREAMS_ARN: &str = "${OutboxTable.Arn}/stream/*";
const SES_IDENTITY: &str = "SesIdentity";
const SES_IDENTITY_ARN: &str =
    "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${SesIdentityName}";
const MAIL_DLQ: &str = "MailDeadLetterQueue";
/// The resources only the mailer may touch.
const MAILERS_OWN: [&str; 2] = [SES_IDENTITY, MAIL_DLQ];
/// The outbox's stream, which the mailer and the webhooks function read.
const STREAM_READERS: [&str; 2] = ["mailer", "webhooks"];
/// The webhooks' queues and secret, which only the webhooks function may touch.
const WEBHOOK_QUEUE: &str = "WebhookQueue";
const WEBHOOK_DLQ: &str = "WebhookDeadLetterQueue";
const WEBHOOK_SECRET: &str = "WebhookSecret";
const WEBHOOK_SECRET_ARN: &str = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${WebhookSecretName}-*";
const WEBHOOKS_OWN: [&str; 3] = [WEBHOOK_QUEUE, WEBHOOK_DLQ, WEBHOOK_SECRET];

/// One permission: an action on a table (a resource as the template names
/// it), for the items whose partition key matches one of `keys`, or for any
/// item (`None`: no `dynamodb:LeadingKeys` condition).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Grant {
    action: String,
    table: String,
    keys: Option<BTreeSet<String>>,
}

/// Reading the secret (the signing keys and the refresh-token secret) at init.
fn secret() -> Grant {
    Grant {
        action: READ_SECRET.to_owned(),
        table: SECRET.to_owned(),
        keys: None,
    }
}

/// `action` on a resource of the mail pipeline, with no key condition.
fn on(action: &str, resource: &str) -> Grant {
    Grant {
        action: action.to_owned(),
        table: resource.to_owned(),
        keys: None,
    }
}

/// The mailer: send as the configured identity, forget a sent mail, read the
/// outbox stream and write the dead-letter queue (both as the event source
/// mapping does, with the function's role). Nothing else.
fn mailer_grants() -> BTreeSet<Grant> {
    BTreeSet::from([
        on("ses:SendEmail", SES_IDENTITY),
        on("DeleteItem", OUTBOX),
        on("DescribeStream", OUTBOX_STREAM),
        on("GetRecords", OUTBOX_STREAM),
        on("GetShardIterator", OUTBOX_STREAM),
        on("ListStreams", OUTBOX_STREAMS),
        on("sqs:SendMessage", MAIL_DLQ),
    ])
}

fn webhooks_grants() -> BTreeSet<Grant> {
    BTreeSet::from([
        on("DescribeStream", OUTBOX_STREAM),
        on("GetRecords", OUTBOX_STREAM),
        on("GetShardIterator", OUTBOX_STREAM),
        on("ListStreams", OUTBOX_STREAMS),
        on("sqs:SendMessage", WEBHOOK_QUEUE),
        on("sqs:ChangeMessageVisibility", WEBHOOK_QUEUE),
        on("sqs:ReceiveMessage", WEBHOOK_QUEUE),
        on("sqs:DeleteMessage", WEBHOOK_QUEUE),
        on("sqs:GetQueueAttributes", WEBHOOK_QUEUE),
        on("sqs:SendMessage", WEBHOOK_DLQ),
        on(READ_SECRET, WEBHOOK_SECRET),
    ])
}

/// Every item of a kind: the pattern of a partition key made by `pk` from `*`.
fn any(pk: fn(&str) -> String) -> String {
    pk("*")
}

/// The template's name of a table a description names.
fn table_name(table: Table) -> &'static str {
    match table {
        Table::Users => USERS,
        Table::UsersListing => USERS_INDEX,
        Table::RevokedTokens => REVOKED,
        Table::Outbox => OUTBOX,
    }
}

/// A description's access as the template's grant: the items by their
/// partition keys' patterns (`auth::store::dynamo::schema::leading_keys`).
fn grant_of(access: &Access) -> Grant {
    Grant {
        action: access.action.to_owned(),
        table: table_name(access.table).to_owned(),
        keys: (!access.items.is_empty()).then(|| {
            access
                .items
                .iter()
                .map(|items| schema::leading_keys(*items))
                .collect()
        }),
    }
}

/// What each function may do, by the binary template.yaml builds it from:
/// for an endpoint, what its description says (the token check's too, for
/// one behind a bearer token), and reading the secret unless it needs only
/// its settings; the authorizer's token check and keys; the mailer's own.
fn expected() -> BTreeMap<&'static str, BTreeSet<Grant>> {
    let mut table = BTreeMap::new();
    for endpoint in Endpoint::ALL {
        let description = endpoint.description();
        let token_check = (description.guard == Guard::Bearer).then_some(TOKEN_CHECK);
        let mut grants: BTreeSet<Grant> = (description.storage.iter().copied())
            .chain(token_check)
            .flatten()
            .map(grant_of)
            .collect();
        if description.needs != Needs::Settings {
            grants.insert(secret());
        }
        table.insert(description.function, grants);
    }
    let authorizer = TOKEN_CHECK.iter().map(grant_of).chain([secret()]);
    table.insert("authorizer", authorizer.collect());
    table.insert("mailer", mailer_grants());
    table.insert("webhooks", webhooks_grants());
    table
}

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A string or a list of strings, as IAM allows for actions and resources.
fn one_or_many(value: &Yaml) -> Vec<&Yaml> {
    match value {
        Yaml::Sequence(items) => items.iter().collect(),
        one => vec![one],
    }
}

/// A resource as the template names it: a table by its logical id for
/// `!GetAtt <table>.Arn`, [`SECRET`] for the secret's ARN exactly as the
/// template builds it, anything else as written (`*`, an ARN, an index).
fn resource_name(resource: &Yaml) -> String {
    match resource {
        Yaml::Tagged(tagged)
            if tagged.tag == "Sub" && tagged.value.as_str() == Some(SECRET_ARN) =>
        {
            SECRET.to_owned()
        }
        Yaml::Tagged(tagged)
            if tagged.tag == "Sub" && tagged.value.as_str() == Some(WEBHOOK_SECRET_ARN) =>
        {
            WEBHOOK_SECRET.to_owned()
        }
        Yaml::Tagged(tagged)
            if tagged.tag == "Sub" && tagged.value.as_str() == Some(SES_IDENTITY_ARN) =>
        {
            SES_IDENTITY.to_owned()
        }
        Yaml::Tagged(tagged)
            if tagged.tag == "Sub" && tagged.value.as_str() == Some(OUTBOX_STREAMS_ARN) =>
        {
            OUTBOX_STREAMS.to_owned()
        }
        Yaml::Tagged(tagged)
            if tagged.tag == "Sub" && tagged.value.as_str() == Some(USERS_INDEX_ARN) =>
        {
            USERS_INDEX.to_owned()
        }
        Yaml::Tagged(tagged) if tagged.tag == "GetAtt" => match tagged.value.as_str() {
            Some(target) => target
                .strip_suffix(".Arn")
                .map_or_else(|| target.to_owned(), str::to_owned),
            None => format!("{resource:?}"),
        },
        Yaml::String(written) => written.clone(),
        other => format!("{other:?}"),
    }
}

/// The `dynamodb:LeadingKeys` patterns a statement's condition allows, or
/// `None` without a condition. Any other condition is a shape this test does
/// not know (`ForAnyValue`, say, would let one matching key carry others).
fn leading_keys(function: &str, condition: &Yaml) -> Option<BTreeSet<String>> {
    if condition.is_null() {
        return None;
    }
    let only = |mapping: &Yaml, key: &str| -> Yaml {
        let entries = mapping.as_mapping();
        match entries.map(|entries| entries.iter().collect::<Vec<_>>()) {
            Some(entries) if entries.len() == 1 && entries[0].0.as_str() == Some(key) => {
                entries[0].1.clone()
            }
            _ => panic!("{function}: a condition other than {key}: {condition:?}"),
        }
    };
    let like = only(condition, "ForAllValues:StringLike");
    let patterns = only(&like, "dynamodb:LeadingKeys");
    Some(
        one_or_many(&patterns)
            .into_iter()
            .map(|pattern| pattern.as_str().expect("a pattern is a string").to_owned())
            .collect(),
    )
}

/// The grants of one policy statement: each action on each resource.
fn statement_grants(function: &str, statement: &Yaml) -> Vec<Grant> {
    let keys: BTreeSet<&str> = statement
        .as_mapping()
        .expect("a statement is a mapping")
        .keys()
        .map(|key| key.as_str().expect("statement keys are strings"))
        .collect();
    let known = BTreeSet::from(["Sid", "Effect", "Action", "Resource", "Condition"]);
    assert!(
        keys.is_subset(&known),
        "{function}: a statement with {keys:?} (NotAction, NotResource and the like widen)"
    );
    assert_eq!(statement["Effect"].as_str(), Some("Allow"), "{function}");
    let condition = leading_keys(function, &statement["Condition"]);
    let mut grants = Vec::new();
    for action in one_or_many(&statement["Action"]) {
        let action = action.as_str().expect("an action is a string");
        let action = action.strip_prefix("dynamodb:").unwrap_or(action);
        for resource in one_or_many(&statement["Resource"]) {
            grants.push(Grant {
                action: action.to_owned(),
                table: resource_name(resource),
                keys: condition.clone(),
            });
        }
    }
    grants
}

/// Every function's grants in a template, by the binary it is built from.
fn grants_in(template: &str) -> BTreeMap<String, BTreeSet<Grant>> {
    let template: Yaml = serde_yaml_ng::from_str(template).unwrap();
    assert!(
        template["Globals"]["Function"]["Policies"].is_null(),
        "policies in Globals apply to every function"
    );
    let mut functions = BTreeMap::new();
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        let kind = resource["Type"].as_str().unwrap_or_default();
        assert!(
            !kind.starts_with("AWS::IAM::"),
            "{name:?}: IAM outside the functions' own policies ({kind})"
        );
        if kind != "AWS::Serverless::Function" {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("every function names its binary");
        let properties = &resource["Properties"];
        assert!(
            properties["Role"].is_null(),
            "{binary}: a role of its own, beyond what this test reads"
        );
        let mut grants = BTreeSet::new();
        for policy in properties["Policies"].as_sequence().into_iter().flatten() {
            let statements = policy["Statement"].as_sequence().unwrap_or_else(|| {
                panic!("{binary}: a policy that is not an inline document: {policy:?}")
            });
            for statement in statements {
                grants.extend(statement_grants(binary, statement));
            }
        }
        functions.insert(binary.to_owned(), grants);
    }
    functions
}

/// How the grants differ from the descriptions, one line each.
fn differences(template: &BTreeMap<String, BTreeSet<Grant>>) -> Vec<String> {
    let expected = expected();
    let functions: BTreeSet<&str> = template.keys().map(String::as_str).collect();
    let tabled: BTreeSet<&str> = expected.keys().copied().collect();
    let mut differences: Vec<String> = functions
        .symmetric_difference(&tabled)
        .map(|function| format!("{function} is in one of template.yaml and the descriptions only"))
        .collect();
    for (function, want) in &expected {
        let Some(got) = template.get(*function) else {
            continue;
        };
        for extra in got.difference(want) {
            differences.push(format!("{function} may also {extra:?}"));
        }
        for missing in want.difference(got) {
            differences.push(format!("{function} may no longer {missing:?}"));
        }
    }
    differences
}

/// What no function may have, whatever a description says, one line each.
fn hazards(template: &BTreeMap<String, BTreeSet<Grant>>) -> Vec<String> {
    let mut hazards = Vec::new();
    for (function, grants) in template {
        for grant in grants {
            // BatchWriteItem allows puts as well as deletes, on any key the
            // condition lets through.
            if grant.action == "BatchWriteItem" || grant.action.contains('*') {
                hazards.push(format!("{function}: {grant:?}"));
            }
            let on_the_secret = [SECRET, WEBHOOK_SECRET].contains(&grant.table.as_str());
            if on_the_secret != (grant.action == READ_SECRET)
                || (on_the_secret && grant.keys.is_some())
            {
                hazards.push(format!(
                    "{function}: the secret, other than read: {grant:?}"
                ));
            }
            let table = grant.table.as_str();
            let streams = [OUTBOX_STREAM, OUTBOX_STREAMS];
            if ![USERS, USERS_INDEX, REVOKED, SECRET, OUTBOX].contains(&table)
                && !MAILERS_OWN.contains(&table)
                && !WEBHOOKS_OWN.contains(&table)
                && !streams.contains(&table)
            {
                hazards.push(format!(
                    "{function}: not one of the tables, the secret or the mail and webhook pipelines: {grant:?}"
                ));
            }
            if MAILERS_OWN.contains(&table) && function != "mailer" {
                hazards.push(format!("{function}: the mailer's own: {grant:?}"));
            }
            if WEBHOOKS_OWN.contains(&table) && function != "webhooks" {
                hazards.push(format!(
                    "{function}: the webhooks function's own: {grant:?}"
                ));
            }
            if streams.contains(&table) && !STREAM_READERS.contains(&function.as_str()) {
                hazards.push(format!("{function}: the outbox stream: {grant:?}"));
            }
            // The users table holds profiles (with the admin flag), logins,
            // sessions and counters: every grant on it names its prefixes.
            let limited = grant
                .keys
                .as_ref()
                .is_some_and(|keys| !keys.is_empty() && !keys.contains("*"));
            if [USERS, USERS_INDEX].contains(&table) && !limited {
                hazards.push(format!("{function}: any key of the users table: {grant:?}"));
            }
        }
    }
    hazards
}

#[test]
fn each_function_may_do_exactly_what_its_description_says() {
    let differences = differences(&grants_in(&repo_file("template.yaml")));
    assert!(
        differences.is_empty(),
        "template.yaml differs from the functions' descriptions (auth::endpoint::Description):\n{}",
        differences.join("\n")
    );
}

#[test]
fn no_function_may_batch_write_use_wildcards_or_touch_other_resources() {
    let hazards = hazards(&grants_in(&repo_file("template.yaml")));
    assert!(hazards.is_empty(), "{}", hazards.join("\n"));
}

#[test]
fn exactly_the_functions_that_sign_or_verify_may_read_the_secret() {
    let readers: BTreeSet<String> = grants_in(&repo_file("template.yaml"))
        .into_iter()
        .filter(|(_, grants)| {
            (grants.iter()).any(|grant| grant.action == READ_SECRET && grant.table == SECRET)
        })
        .map(|(function, _)| function)
        .collect();
    // Every endpoint that needs more than its settings signs or verifies
    // tokens, or publishes the keys; so does the authorizer.
    let mut expected: BTreeSet<String> = (Endpoint::ALL.iter())
        .filter(|endpoint| endpoint.needs_app())
        .map(|endpoint| endpoint.function_name().to_owned())
        .collect();
    expected.insert("authorizer".to_owned());
    assert_eq!(readers, expected);
    for keyless in [OpenidConfiguration, ExampleProtected] {
        assert!(!readers.contains(keyless.function_name()), "{keyless:?}");
    }
}

#[test]
fn a_widened_template_is_caught() {
    // Each change below, made to a copy of template.yaml, must make one of the
    // tests above fail (a difference, a hazard, or a shape they refuse).
    let template = repo_file("template.yaml");
    let sessions_only = format!("[\"{}\"]", any(sessions_pk));
    let and_profiles = format!("[\"{}\", \"{}\"]", any(sessions_pk), any(user_pk));
    let widenings = [
        (
            "Action: dynamodb:PutItem",
            "Action: [dynamodb:PutItem, dynamodb:BatchWriteItem]",
        ),
        ("Action: dynamodb:PutItem", "Action: dynamodb:*"),
        (sessions_only.as_str(), and_profiles.as_str()),
        ("ForAllValues:StringLike", "ForAnyValue:StringLike"),
        ("Resource: !GetAtt UsersTable.Arn", "Resource: \"*\""),
        // Any secret of the account, or any action on ours.
        ("secret:${AuthSecretName}-*", "secret:*"),
        (
            "Action: secretsmanager:GetSecretValue",
            "Action: secretsmanager:*",
        ),
        // The secret for a function that neither signs nor verifies.
        (
            "            Path: /.well-known/openid-configuration\n",
            "            Path: /.well-known/openid-configuration\n      \
             Policies:\n        - Version: \"2012-10-17\"\n          Statement:\n            \
             - Effect: Allow\n              Action: secretsmanager:GetSecretValue\n              \
             Resource: !Sub \"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AuthSecretName}-*\"\n",
        ),
        (
            "Effect: Allow",
            "Effect: Allow\n              NotResource: x",
        ),
        // The mailer: any identity, any SES action, any stream.
        ("identity/${SesIdentityName}", "identity/*"),
        ("Action: ses:SendEmail", "Action: ses:*"),
        ("Resource: !GetAtt OutboxTable.StreamArn", "Resource: \"*\""),
    ];
    for (from, to) in widenings {
        let widened = template.replacen(from, to, 1);
        assert_ne!(
            widened, template,
            "template.yaml no longer has {from:?}: update this case"
        );
        // Still YAML, so that what is caught is the widening, not a typo here.
        serde_yaml_ng::from_str::<Yaml>(&widened).expect("the widened copy is YAML");
        let caught = std::panic::catch_unwind(|| {
            let grants = grants_in(&widened);
            differences(&grants).len() + hazards(&grants).len()
        });
        assert!(
            !matches!(caught, Ok(0)),
            "{from:?} -> {to:?} went unnoticed"
        );
    }
}

// ---- the requests the code makes, against the template ----------------------

/// What a request asks IAM for: an action on a table (its name as the app
/// knows it), for items with these partition keys.
#[derive(Debug)]
struct Ask {
    action: String,
    table: String,
    keys: Vec<String>,
}

/// The partition key of a key or an item as sent: `pk` in the users table,
/// `jti` in the revoked-tokens table, `id` in the outbox.
fn partition_key(item: &Value) -> String {
    let key = ["pk", "jti", "id"]
        .iter()
        .map(|name| &item[name]["S"])
        .find(|key| !key.is_null())
        .unwrap_or(&Value::Null);
    key.as_str()
        .unwrap_or_else(|| panic!("no partition key in {item}"))
        .to_owned()
}

/// What one request asks for: one ask, or one per table of a batch read, or
/// one per item of a transaction (each authorised as its own action).
fn asks(sent: &Sent) -> Vec<Ask> {
    let body = &sent.body;
    let table = |part: &Value| part["TableName"].as_str().unwrap_or_default().to_owned();
    let one = |action: &str, part: &Value, key: &Value| Ask {
        action: action.to_owned(),
        table: table(part),
        keys: vec![partition_key(key)],
    };
    match sent.operation.as_str() {
        "GetItem" | "UpdateItem" | "DeleteItem" => vec![one(&sent.operation, body, &body["Key"])],
        "PutItem" => vec![one("PutItem", body, &body["Item"])],
        "Query" => {
            let condition = body["KeyConditionExpression"].as_str().unwrap_or_default();
            let (_, placeholder) = condition
                .split_once('=')
                .unwrap_or_else(|| panic!("a query by partition key: {body}"));
            // The partition key's placeholder, before any sort-key condition.
            let placeholder = placeholder.split_whitespace().next().unwrap_or_default();
            let value = &body["ExpressionAttributeValues"][placeholder]["S"];
            // A query of an index is authorised on the index's ARN.
            let table = match body["IndexName"].as_str() {
                Some(index) => format!("{}/index/{index}", table(body)),
                None => table(body),
            };
            vec![Ask {
                action: "Query".to_owned(),
                table,
                keys: vec![value.as_str().unwrap_or_default().to_owned()],
            }]
        }
        "BatchGetItem" => body["RequestItems"]
            .as_object()
            .expect("a batch read names its tables")
            .iter()
            .map(|(table, reads)| Ask {
                action: "BatchGetItem".to_owned(),
                table: table.clone(),
                keys: reads["Keys"]
                    .as_array()
                    .expect("a batch read lists keys")
                    .iter()
                    .map(partition_key)
                    .collect(),
            })
            .collect(),
        "TransactWriteItems" => body["TransactItems"]
            .as_array()
            .expect("a transaction lists items")
            .iter()
            .map(|item| {
                let (kind, part) = item
                    .as_object()
                    .and_then(|item| item.iter().next())
                    .expect("a transaction item names its kind");
                let (action, key) = match kind.as_str() {
                    "Put" => ("PutItem", &part["Item"]),
                    "Update" => ("UpdateItem", &part["Key"]),
                    "Delete" => ("DeleteItem", &part["Key"]),
                    "ConditionCheck" => ("ConditionCheckItem", &part["Key"]),
                    other => panic!("a transaction item of kind {other}"),
                };
                one(action, part, key)
            })
            .collect(),
        other => panic!("an operation this test does not read: {other}"),
    }
}

/// Whether `text` matches an IAM `StringLike` pattern (`*` any run, `?` one
/// character).
fn like(pattern: &str, text: &str) -> bool {
    match pattern.chars().next() {
        None => text.is_empty(),
        Some('*') => (0..=text.len())
            .filter(|at| text.is_char_boundary(*at))
            .any(|at| like(&pattern[1..], &text[at..])),
        Some(first) => text.chars().next().is_some_and(|got| {
            (first == '?' || first == got)
                && like(&pattern[first.len_utf8()..], &text[got.len_utf8()..])
        }),
    }
}

/// The grant (one policy statement) that allows `ask`, if any: the same action
/// on the same table, and (`ForAllValues`) every key it names matching one of
/// the statement's patterns.
fn allowing<'a>(grants: &'a BTreeSet<Grant>, ask: &Ask, table: &str) -> Option<&'a Grant> {
    grants.iter().find(|grant| {
        grant.action == ask.action
            && grant.table == table
            && grant.keys.as_ref().is_none_or(|patterns| {
                let matches = |key: &String| patterns.iter().any(|pattern| like(pattern, key));
                ask.keys.iter().all(matches)
            })
    })
}

/// A walk through every endpoint, checking each request sent on the way.
struct Walk {
    app: Arc<TestApp>,
    log: RequestLog,
    config: Config,
    grants: BTreeMap<String, BTreeSet<Grant>>,
    /// Each grant some request needed, by function.
    used: BTreeSet<(String, Grant)>,
    /// Every ask seen, by function, with the template's name of its table.
    asks: Vec<(&'static str, Ask, &'static str)>,
    refused: Vec<String>,
}

impl Walk {
    async fn new() -> Self {
        let log = RequestLog::default();
        let (app, config) = app_watched_by(&log).await;
        Self {
            app: Arc::new(TestApp::from(app)),
            log,
            config,
            grants: grants_in(&repo_file("template.yaml")),
            used: BTreeSet::new(),
            asks: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// Checks every request sent since the last check against the policy of
    /// `endpoint`'s function.
    fn check(&mut self, endpoint: Endpoint) {
        self.check_function(endpoint.function_name());
    }

    /// Asserts that `endpoint` sent storage nothing since the last check.
    fn check_silent(&mut self, endpoint: Endpoint) {
        let (sent, _) = self.log.take();
        let operations: Vec<&str> = sent.iter().map(|sent| sent.operation.as_str()).collect();
        assert!(
            operations.is_empty(),
            "{endpoint:?} asked storage {operations:?}"
        );
    }

    /// Checks every request sent since the last check against the policy of
    /// `function` (a binary of template.yaml).
    fn check_function(&mut self, function: &'static str) {
        let (sent, _) = self.log.take();
        assert!(
            !sent.is_empty(),
            "{function}: the step asked storage nothing"
        );
        for ask in sent.iter().flat_map(asks) {
            let index = format!("{}/index/{}", self.config.users_table, schema::USERS_INDEX);
            let table = if ask.table == self.config.users_table {
                USERS
            } else if ask.table == index {
                USERS_INDEX
            } else if ask.table == self.config.revoked_tokens_table {
                REVOKED
            } else if ask.table == self.config.outbox_table {
                OUTBOX
            } else {
                panic!("{function}: a table the template does not define: {ask:?}")
            };
            match allowing(&self.grants[function], &ask, table) {
                Some(grant) => {
                    self.used.insert((function.to_owned(), grant.clone()));
                }
                None => self.refused.push(format!("{function}: {ask:?}")),
            }
            self.asks.push((function, ask, table));
        }
    }

    /// Asserts that each grant the walk used is the only one allowing some
    /// ask: without it, that ask is refused. So the check above is no
    /// formality, and no two statements overlap.
    fn assert_each_used_grant_is_needed(&self) {
        for (function, grant) in &self.used {
            let mut without = self.grants[function].clone();
            without.remove(grant);
            let needed = self.asks.iter().any(|(asker, ask, table)| {
                asker == function && allowing(&without, ask, table).is_none()
            });
            assert!(needed, "{function}: {grant:?} is never the only grant");
        }
    }

    /// A login or a registration from the client address `ip`, checked.
    async fn from(&mut self, ip: &str, endpoint: Endpoint, email: &str, password: &str) -> Answer {
        let app = self.app.in_process();
        let answer = call_from(app, ip, endpoint, &credentials(email, password)).await;
        self.check(endpoint);
        answer
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_request_of_a_walk_through_the_endpoints_is_one_the_policies_allow() {
    let mut walk = Walk::new().await;
    let ip = unique_ip();
    let email = unique_email();
    let app = walk.app.clone();

    // register: the address's count, the transaction; a taken email too.
    let registered = walk.from(&ip, Register, &email, PASSWORD).await;
    registered.assert_success(201, REGISTERED);
    let taken = walk.from(&ip, Register, &email, PASSWORD).await;
    taken.assert_fail(202, USER_EXISTS);
    // login: read, claims, session with the claims settled; a failure.
    let laptop = walk.from(&ip, Login, &email, PASSWORD).await;
    laptop.assert_success(200, LOGGED_IN);
    let wrong = walk.from(&ip, Login, &email, "a wrong guess").await;
    wrong.assert_fail(404, USER_DOES_NOT_EXIST);
    // Parallel guesses: the claims that lose are taken back (transactions).
    let guessed = unique_email();
    let answers = at_once(
        &app,
        8,
        &(ip.clone(), guessed),
        |app, (ip, email)| async move {
            let body = credentials(&email, "a wrong guess");
            let answer = call_from(app.in_process(), &ip, Login, &body).await;
            answer.status.as_u16()
        },
    )
    .await;
    assert!(answers.contains(&429), "some claims lost: {answers:?}");
    walk.check(Login);

    let token = registered.token();
    assert_eq!(status(&app, &token).await.status, 200);
    walk.check(Status);
    // refresh: read and rotate; the old token again, within the grace window.
    let old_refresh = registered.refresh_token();
    let rotated = refresh(&app, &old_refresh).await;
    rotated.assert_success(200, REFRESHED);
    walk.check(Refresh);
    assert_eq!(refresh(&app, &old_refresh).await.status, 200);
    walk.check(Refresh);
    let token = rotated.token();
    assert_eq!(list_sessions(&app, &token).await.len(), 2);
    walk.check(Sessions);
    let revoked = revoke_session(&app, &token, &session_of(&laptop.token())).await;
    revoked.assert_success(200, SESSION_REVOKED);
    walk.check(RevokeSession);

    // password: a wrong current one (claimed), then a change that ends another
    // session and clears the counter.
    let new_password = "a brand new password";
    let wrong = change_password(&app, Some(&token), "a wrong guess", new_password).await;
    wrong.assert_fail(403, WRONG_CURRENT_PASSWORD);
    walk.check(ChangePassword);
    let phone = walk.from(&ip, Login, &email, PASSWORD).await;
    phone.assert_success(200, LOGGED_IN);
    let changed = change_password(&app, Some(&token), PASSWORD, new_password).await;
    changed.assert_success(200, PASSWORD_CHANGED);
    walk.check(ChangePassword);

    // logout: others, local, global.
    let tablet = walk.from(&ip, Login, &email, new_password).await;
    tablet.assert_success(200, LOGGED_IN);
    let others = logout_scope(&app, &token, "others").await;
    others.assert_success(200, LOGGED_OUT);
    walk.check(Logout);
    let desktop = walk.from(&ip, Login, &email, new_password).await;
    logout(&app, &desktop.token())
        .await
        .assert_success(200, LOGGED_OUT);
    walk.check(Logout);
    let global = logout_scope(&app, &token, "global").await;
    global.assert_success(200, LOGGED_OUT);
    walk.check(Logout);

    // refresh: a retired token after the grace window ends its session.
    let last = walk.from(&ip, Login, &email, new_password).await;
    assert_eq!(refresh(&app, &last.refresh_token()).await.status, 200);
    walk.check(Refresh);
    tokio::time::sleep(std::time::Duration::from_secs(grace_seconds().await + 1)).await;
    refresh(&app, &last.refresh_token())
        .await
        .assert_fail(401, REFRESH_REUSED);
    walk.check(Refresh);

    // The authorizer: the token check of status, allowing and denying.
    let live = walk.from(&ip, Login, &email, new_password).await.token();
    let bearer = format!("Bearer {live}");
    let allowed = authorize(app.in_process(), Some(&bearer)).await;
    assert!(allowed.is_authorized, "{:?}", allowed.context);
    walk.check_function("authorizer");
    logout(&app, &live).await.assert_success(200, LOGGED_OUT);
    walk.check(Logout);
    let denied = authorize(app.in_process(), Some(&bearer)).await;
    assert!(!denied.is_authorized, "logged out");
    walk.check_function("authorizer");

    // The published keys, discovery and the example route: no storage at all.
    assert_eq!(jwks(&app).await.status, 200);
    walk.check_silent(Jwks);
    assert_eq!(openid_configuration(&app).await.status, 200);
    walk.check_silent(OpenidConfiguration);
    let example = call_with_token(&app, "GET", "/example/protected", &live, None).await;
    assert_eq!(
        example.status, 401,
        "no authorizer context: {}",
        example.body
    );
    walk.check_silent(ExampleProtected);
    let page = AccountPage.handle(app.in_process(), lambda_http::Request::default());
    assert_eq!(Box::pin(page).await.status(), 200);
    walk.check_silent(AccountPage);

    // Codes: a verification code mailed again, a wrong guess, the right one;
    // a reset asked for a known and an unknown address, a wrong guess, the
    // right code (which ends every session).
    let fresh = walk.from(&ip, Login, &email, new_password).await.token();
    resend_verification(&app, &fresh)
        .await
        .assert_success(202, VERIFICATION_ON_ITS_WAY);
    walk.check(ResendVerification);
    verify_email(&app, &email, "00000000").await;
    walk.check(VerifyEmail);
    let code = latest_code(&email, MailKind::VerifyEmail).await;
    verify_email(&app, &email, &code)
        .await
        .assert_success(200, EMAIL_VERIFIED);
    walk.check(VerifyEmail);
    for address in [email.clone(), unique_email()] {
        let body = serde_json::json!({ "email": address }).to_string();
        call_from(app.in_process(), &ip, ForgotPassword, &body)
            .await
            .assert_success(202, CODE_ON_ITS_WAY);
        walk.check(ForgotPassword);
    }
    reset_password(&app, &email, "00000000", PASSWORD).await;
    walk.check(ResetPassword);
    let code = latest_code(&email, MailKind::ResetPassword).await;
    reset_password(&app, &email, &code, PASSWORD)
        .await
        .assert_success(200, PASSWORD_RESET);
    walk.check(ResetPassword);

    // A change of address: to a taken address (nothing pending, nothing
    // mailed to it), to a free one, a wrong guess at its code, the right one
    // (which moves the login record and ends the other sessions).
    let mover_email = unique_email();
    let mover = walk
        .from(&ip, Register, &mover_email, PASSWORD)
        .await
        .token();
    walk.from(&ip, Login, &mover_email, PASSWORD).await;
    let taken = email.clone();
    let new_address = unique_email();
    for address in [&taken, &new_address] {
        let body = serde_json::json!({ "new_email": address, "password": PASSWORD }).to_string();
        let answer = call_with_token(&app, "POST", "/auth/email/change", &mover, Some(&body)).await;
        assert_eq!(answer.status, 202, "{}", answer.body);
        walk.check(ChangeEmail);
    }
    let confirm = |code: &str| serde_json::json!({ "code": code }).to_string();
    let path = "/auth/email/change/confirm";
    call_with_token(&app, "POST", path, &mover, Some(&confirm("00000000"))).await;
    walk.check(ConfirmEmailChange);
    let code = latest_code(&new_address, MailKind::EmailChange).await;
    let answer = call_with_token(&app, "POST", path, &mover, Some(&confirm(&code))).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    walk.check(ConfirmEmailChange);

    // Admins: one made behind the service's back (as `make create-admin`
    // does), each admin route on another user; then an owner's own deletion,
    // a wrong password first.
    let backstage = backstage().await.expect("make test's database");
    let admin_email = unique_email();
    walk.from(&ip, Register, &admin_email, PASSWORD).await;
    backstage.set_admin(&admin_email, true).await;
    let admin = walk.from(&ip, Login, &admin_email, PASSWORD).await.token();
    let target_email = unique_email();
    let target = walk.from(&ip, Register, &target_email, PASSWORD).await;
    let target_id = claims_of(&target.token())["sub"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(list_users(&app, &admin, "?limit=2").await.status, 200);
    walk.check(ListUsers);
    assert_eq!(get_user(&app, &admin, &target_id).await.status, 200);
    walk.check(GetUser);
    for (action, endpoint) in [
        ("disable", DisableUser),
        ("enable", EnableUser),
        ("sign-out", SignOutUser),
    ] {
        let answer = admin_post(&app, &admin, &target_id, action).await;
        assert_eq!(answer.status, 200, "{action}: {}", answer.body);
        walk.check(endpoint);
    }
    delete_user(&app, &admin, &target_id)
        .await
        .assert_success(200, USER_DELETED);
    walk.check(DeleteUser);
    let owner = walk.from(&ip, Register, &unique_email(), PASSWORD).await;
    delete_account(&app, &owner.token(), "a wrong guess")
        .await
        .assert_fail(403, WRONG_CURRENT_PASSWORD);
    walk.check(DeleteAccount);
    delete_account(&app, &owner.token(), PASSWORD)
        .await
        .assert_success(200, ACCOUNT_DELETED);
    walk.check(DeleteAccount);

    let unused: Vec<String> = walk
        .grants
        .iter()
        .flat_map(|(function, grants)| grants.iter().map(move |grant| (function, grant)))
        .filter(|(function, grant)| !walk.used.contains(&((*function).clone(), (*grant).clone())))
        .map(|(function, grant)| format!("{function}: {grant:?}"))
        .collect();
    eprintln!(
        "{} asks checked; grants the walk never needed:\n{}",
        walk.asks.len(),
        unused.join("\n")
    );
    assert!(
        walk.refused.is_empty(),
        "requests template.yaml does not allow:\n{}",
        walk.refused.join("\n")
    );
    walk.assert_each_used_grant_is_needed();
}
