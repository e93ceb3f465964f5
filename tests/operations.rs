//! template.yaml runs as an on-call engineer needs (issue 25): every function
//! logs to a group of its own kept `LogRetentionDays`, deploys through its
//! alias with the deployment preference, and has an errors alarm that rolls
//! its canary back; every alarm watches a metric the code emits
//! (`auth::metrics::Metric`) or one AWS publishes, and tells `AlarmTopicArn`;
//! every parameter is used, and every setting the code reads from the
//! environment is a parameter's.

use auth::metrics::Metric;
use serde_yaml_ng::{Mapping, Value as Yaml};
use std::collections::BTreeSet;

fn template() -> Yaml {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `(tag, value)` of a `!Ref x` / `!GetAtt x` / … node.
fn tagged(node: &Yaml) -> Option<(String, &Yaml)> {
    match node {
        Yaml::Tagged(tagged) => Some((tagged.tag.to_string(), &tagged.value)),
        _ => None,
    }
}

fn is_ref(node: &Yaml, name: &str) -> bool {
    tagged(node).is_some_and(|(tag, value)| tag.ends_with("Ref") && value.as_str() == Some(name))
}

fn resources_of_type<'a>(template: &'a Yaml, kind: &str) -> Vec<(String, &'a Yaml)> {
    template["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, resource)| resource["Type"].as_str() == Some(kind))
        .map(|(name, resource)| (name.as_str().unwrap().to_owned(), resource))
        .collect()
}

/// Every `!Ref`, `!GetAtt` and `${…}` name used anywhere under `node`.
fn names_used(node: &Yaml, into: &mut BTreeSet<String>) {
    match node {
        Yaml::Tagged(tagged) => {
            if let Some(name) = tagged.value.as_str() {
                into.insert(name.split('.').next().unwrap().to_owned());
            }
            names_used(&tagged.value, into);
        }
        Yaml::String(text) => {
            for piece in text.split("${").skip(1) {
                let name = piece.split('}').next().unwrap();
                into.insert(name.split('.').next().unwrap().to_owned());
            }
        }
        Yaml::Sequence(items) => items.iter().for_each(|item| names_used(item, into)),
        Yaml::Mapping(map) => map.values().for_each(|value| names_used(value, into)),
        _ => {}
    }
}

#[test]
fn every_function_logs_to_a_group_of_its_own_and_deploys_behind_an_alarm() {
    let template = template();
    let resources = &template["Resources"];
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["AutoPublishAlias"].as_str(), Some("live"));
    let preference = &globals["DeploymentPreference"];
    assert!(is_ref(&preference["Type"], "DeploymentPreferenceType"));
    let shared: Vec<&Yaml> = preference["Alarms"].as_sequence().unwrap().iter().collect();
    assert!(
        shared
            .iter()
            .any(|alarm| is_ref(alarm, "ApiServerErrorsAlarm"))
    );
    assert!(
        shared
            .iter()
            .any(|alarm| is_ref(alarm, "StorageUnavailableAlarm"))
    );
    let functions = resources_of_type(&template, "AWS::Serverless::Function");
    assert!(functions.len() >= 30, "{}", functions.len());
    for (name, function) in functions {
        let properties = &function["Properties"];
        let (_, group) = tagged(&properties["LoggingConfig"]["LogGroup"])
            .unwrap_or_else(|| panic!("{name}: LoggingConfig.LogGroup is a !Ref"));
        let group = &resources[group.as_str().unwrap()];
        assert_eq!(
            group["Type"].as_str(),
            Some("AWS::Logs::LogGroup"),
            "{name}"
        );
        assert!(
            is_ref(&group["Properties"]["RetentionInDays"], "LogRetentionDays"),
            "{name}"
        );
        let alarms = properties["DeploymentPreference"]["Alarms"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{name}: a DeploymentPreference with its alarm"));
        let (_, alarm) = tagged(&alarms[0]).unwrap();
        let alarm = &resources[alarm.as_str().unwrap()]["Properties"];
        let watched: Vec<&Yaml> = alarm["Metrics"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{name}: its alarm is metric math"))
            .iter()
            .filter_map(|metric| metric.get("MetricStat"))
            .map(|stat| &stat["Metric"])
            .collect();
        for lambda_metric in ["Errors", "Throttles"] {
            assert!(
                watched.iter().any(|metric| {
                    metric["Namespace"].as_str() == Some("AWS/Lambda")
                        && metric["MetricName"].as_str() == Some(lambda_metric)
                        && is_ref(&metric["Dimensions"][0]["Value"], &name)
                }),
                "{name}: its alarm watches its {lambda_metric}"
            );
        }
    }
    // The API's routes and the authorizer's callers reach the alias.
    let authorizer = &resources["HttpApi"]["Properties"]["Auth"]["Authorizers"]["TokenAuthorizer"];
    assert!(is_ref(
        &authorizer["FunctionArn"],
        "AuthorizerFunction.Alias"
    ));
    assert!(is_ref(
        &resources["ApiAccessLogs"]["Properties"]["RetentionInDays"],
        "LogRetentionDays"
    ));
    // The dashboard shows every function's errors and duration.
    let dashboard =
        serde_yaml_ng::to_string(&resources["Dashboard"]["Properties"]["DashboardBody"]).unwrap();
    for (name, _) in resources_of_type(&template, "AWS::Serverless::Function") {
        for metric in ["Errors", "Duration"] {
            let shown = format!(r#"["AWS/Lambda","{metric}","FunctionName","${{{name}}}"]"#);
            assert!(
                dashboard.contains(&shown),
                "the dashboard lacks {name}'s {metric}"
            );
        }
    }
}

#[test]
fn every_alarm_watches_a_metric_that_exists_and_tells_the_alarm_topic() {
    let template = template();
    let emitted: BTreeSet<String> = Metric::ALL.iter().map(|metric| metric.name()).collect();
    let alarms = resources_of_type(&template, "AWS::CloudWatch::Alarm");
    let mut ours_watched = BTreeSet::new();
    for (name, alarm) in &alarms {
        let properties = &alarm["Properties"];
        let mut metrics: Vec<&Yaml> = Vec::new();
        if properties["MetricName"].is_string() {
            metrics.push(properties);
        }
        for metric in properties["Metrics"].as_sequence().into_iter().flatten() {
            if let Some(stat) = metric.get("MetricStat") {
                metrics.push(&stat["Metric"]);
            }
        }
        assert!(!metrics.is_empty(), "{name}: watches nothing");
        for metric in metrics {
            let metric_name = metric["MetricName"].as_str().unwrap();
            if is_ref(&metric["Namespace"], "MetricsNamespace") {
                assert!(
                    emitted.contains(metric_name),
                    "{name}: {metric_name} is no metric the code emits"
                );
                ours_watched.insert(metric_name.to_owned());
            } else {
                let namespace = metric["Namespace"].as_str().unwrap_or_default();
                assert!(
                    namespace.starts_with("AWS/"),
                    "{name}: {namespace} is neither ours nor AWS's"
                );
            }
        }
        let actions = serde_yaml_ng::to_string(&properties["AlarmActions"]).unwrap();
        assert!(actions.contains("AlarmTopicArn"), "{name}: {actions}");
        assert_eq!(
            properties["TreatMissingData"].as_str(),
            Some("notBreaching"),
            "{name}"
        );
    }
    for needed in [
        "RefreshReuseDetected",
        "LoginFailed",
        "StorageUnavailable",
        "AuthorizerErrored",
    ] {
        assert!(ours_watched.contains(needed), "no alarm on {needed}");
    }
    for table in ["UsersTable", "RevokedTokensTable", "OutboxTable"] {
        for kind in ["ThrottlesAlarm", "SystemErrorsAlarm"] {
            assert!(
                alarms
                    .iter()
                    .any(|(name, _)| *name == format!("{table}{kind}")),
                "{table}{kind}"
            );
        }
    }
}

#[test]
fn every_parameter_is_used_and_every_setting_is_a_parameter() {
    let template = template();
    let mut used = BTreeSet::new();
    for part in ["Globals", "Resources", "Outputs", "Conditions"] {
        names_used(&template[part], &mut used);
    }
    let parameters = template["Parameters"].as_mapping().unwrap();
    for (name, _) in parameters {
        let name = name.as_str().unwrap();
        assert!(used.contains(name), "parameter {name} is used nowhere");
    }
    // Every setting the functions read from the environment, but for the
    // secrets (from Secrets Manager) and the tables (the template's own).
    let environment: &Mapping = template["Globals"]["Function"]["Environment"]["Variables"]
        .as_mapping()
        .unwrap();
    let config = include_str!("../shared/auth/src/config/mod.rs");
    let read: BTreeSet<&str> = config
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|word| word.len() > 3 && word.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
        .collect();
    for setting in read {
        let secret = ["SIGNING_KEYS", "REFRESH_TOKEN_SECRET"].contains(&setting);
        if secret || setting.ends_with("_TABLE") {
            continue;
        }
        let value = environment
            .get(setting)
            .unwrap_or_else(|| panic!("{setting} is read but not set in Globals"));
        let mut from = BTreeSet::new();
        names_used(value, &mut from);
        assert!(
            from.iter()
                .any(|name| parameters.contains_key(name.as_str())),
            "{setting} is set from no parameter: {value:?}"
        );
    }
}
