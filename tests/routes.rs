//! Local and deployed paths cannot drift: the routes API Gateway gets from
//! template.yaml, the routes `cargo lambda watch` gets from Cargo.toml, the
//! operations openapi.yaml documents, and the routes the endpoints describe
//! (`auth::endpoint::Description`) are one and the same set; each endpoint
//! has a binary in functions/src/bin and an event in events/. A place that
//! lacks an endpoint fails here with the endpoint's function name. The routes that carry the
//! Lambda authorizer in template.yaml are exactly those the code puts behind
//! it (`Endpoint::behind_authorizer`), never a public one; the authorizer is
//! a function of its own, without a route, called as payload 2.0 with simple
//! responses on the Authorization header.

use auth::Endpoint;
use serde_yaml_ng::Value as Yaml;
use std::collections::{BTreeMap, BTreeSet};

type Routes = BTreeSet<(String, String, String)>; // (method, path, function)

fn repo_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn code_routes() -> Routes {
    Endpoint::ALL
        .iter()
        .copied()
        .map(|endpoint| {
            let (method, path) = endpoint.route();
            (method.into(), path.into(), endpoint.function_name().into())
        })
        .collect()
}

fn watch_routes() -> Routes {
    let manifest: toml::Table = repo_file("Cargo.toml").parse().unwrap();
    let router = manifest["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("a watch router in Cargo.toml");
    let mut routes = Routes::new();
    for (path, targets) in router {
        for target in targets.as_array().expect("routes list method and function") {
            routes.insert((
                target["method"].as_str().unwrap().to_owned(),
                path.clone(),
                target["function"].as_str().unwrap().to_owned(),
            ));
        }
    }
    routes
}

fn template_routes() -> Routes {
    let template: Yaml = serde_yaml_ng::from_str(&repo_file("template.yaml")).unwrap();
    let mut routes = Routes::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("every function names its binary");
        let events = resource["Properties"]["Events"].as_mapping();
        for (_, event) in events.into_iter().flatten() {
            if event["Type"].as_str() == Some("HttpApi") {
                routes.insert((
                    event["Properties"]["Method"].as_str().unwrap().to_owned(),
                    event["Properties"]["Path"].as_str().unwrap().to_owned(),
                    binary.to_owned(),
                ));
            }
        }
    }
    routes
}

/// The (method, path) of every operation in openapi.yaml.
fn openapi_routes() -> BTreeSet<(String, String)> {
    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];
    let spec: Yaml = serde_yaml_ng::from_str(&repo_file("openapi.yaml")).unwrap();
    let mut routes = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("openapi.yaml has paths") {
        let path = path.as_str().expect("paths are strings");
        for (key, _) in item.as_mapping().expect("a path item is a mapping") {
            let key = key.as_str().expect("path item keys are strings");
            if METHODS.contains(&key) {
                let route = (key.to_ascii_uppercase(), path.to_owned());
                assert!(routes.insert(route), "{key} {path} twice in openapi.yaml");
            }
        }
    }
    routes
}

/// Fails, naming each endpoint `place` lacks (and each route it has that no
/// endpoint describes), unless `place` routes exactly the described ones.
fn assert_routes_everything(place: &str, routes: &Routes) {
    let code = code_routes();
    let mut problems: Vec<String> = code
        .difference(routes)
        .map(|(method, path, function)| {
            format!("{function}: {method} {path} is missing from {place}")
        })
        .collect();
    problems.extend(routes.difference(&code).map(|(method, path, function)| {
        format!("{place} routes {method} {path} to {function:?}, which no endpoint describes")
    }));
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn openapi_documents_exactly_the_code_routes() {
    // openapi.yaml names no function: each operation counts as the
    // endpoint's that owns its route.
    let owners: BTreeMap<(String, String), String> = code_routes()
        .into_iter()
        .map(|(method, path, function)| ((method, path), function))
        .collect();
    let documented: Routes = openapi_routes()
        .into_iter()
        .map(|(method, path)| {
            let owner = owners.get(&(method.clone(), path.clone())).cloned();
            (method, path, owner.unwrap_or_else(|| "(none)".into()))
        })
        .collect();
    assert_routes_everything("openapi.yaml", &documented);
}

#[test]
fn template_watch_router_and_code_declare_the_same_routes() {
    assert_eq!(
        code_routes().len(),
        Endpoint::ALL.len(),
        "two endpoints share a route"
    );
    assert_routes_everything("template.yaml", &template_routes());
    assert_routes_everything("Cargo.toml's watch router", &watch_routes());
}

/// The binaries of the functions packages: functions/src/bin/<name>.rs,
/// and the passkey functions' functions-passkeys/src/bin/<name>.rs.
fn binaries() -> BTreeSet<String> {
    PACKAGES
        .iter()
        .flat_map(|package| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../{package}/src/bin"));
            std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|entry| entry.unwrap().path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
                .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The packages of the functions' binaries: the passkey functions apart,
/// so that only they link webauthn-rs and OpenSSL.
const PACKAGES: [&str; 2] = ["functions", "functions-passkeys"];

/// The package a function's binary is in.
fn package_of(function: &str) -> &'static str {
    let passkeys = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../functions-passkeys/src/bin/{function}.rs"));
    if passkeys.exists() {
        PACKAGES[1]
    } else {
        PACKAGES[0]
    }
}

#[test]
fn each_function_is_built_from_its_own_packages_directory() {
    // `cargo lambda build --bin NAME` at the workspace root selects every
    // member and unifies their features: each function names its package's
    // directory (CodeUri), so that only the passkey functions link OpenSSL.
    let template = template();
    let mut problems = Vec::new();
    for resource in template["Resources"].as_mapping().unwrap().values() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap();
        let code_uri = resource["Properties"]["CodeUri"].as_str();
        if code_uri != Some(package_of(binary)) {
            problems.push(format!("{binary}: CodeUri {code_uri:?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every function template.yaml builds (`BuildProperties: Binary`).
fn template_functions() -> BTreeSet<String> {
    let template = template();
    template["Resources"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|resource| resource["Type"].as_str() == Some("AWS::Serverless::Function"))
        .map(|resource| {
            resource["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .expect("every function names its binary")
                .to_owned()
        })
        .collect()
}

#[test]
fn every_function_is_a_binary_of_the_functions_package_and_a_template_resource() {
    let binaries = binaries();
    let template = template_functions();
    let mut problems = Vec::new();
    for endpoint in Endpoint::ALL {
        let function = endpoint.function_name();
        if !binaries.contains(function) {
            problems.push(format!(
                "{function}: no src/bin/{function}.rs in {PACKAGES:?}"
            ));
        }
        if !template.contains(function) {
            problems.push(format!(
                "{function}: no function in template.yaml builds it"
            ));
        }
    }
    for function in binaries.symmetric_difference(&template) {
        problems.push(format!(
            "{function}: a binary or a template function, not both"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_function_has_an_event_in_events() {
    let manifest: serde_json::Value =
        serde_json::from_str(&repo_file("events/manifest.json")).unwrap();
    let mut with_events = BTreeSet::new();
    for entry in manifest.as_array().expect("the manifest is a list") {
        let event = entry["event"].as_str().expect("each entry names its event");
        repo_file(&format!("events/{event}"));
        with_events.insert(
            entry["function"]
                .as_str()
                .expect("and its function")
                .to_owned(),
        );
    }
    let functions = template_functions();
    let missing: Vec<&String> = functions
        .iter()
        .filter(|function| !with_events.contains(*function))
        .collect();
    assert!(
        missing.is_empty(),
        "no event in events/manifest.json for {missing:?}"
    );
    let unknown: Vec<&String> = with_events.difference(&functions).collect();
    assert!(
        unknown.is_empty(),
        "events/manifest.json names no function: {unknown:?}"
    );
}

fn template() -> Yaml {
    serde_yaml_ng::from_str(&repo_file("template.yaml")).unwrap()
}

/// The authorizer each routed function's route carries in template.yaml
/// (its event's `Auth.Authorizer`, else the API's default), by function.
fn template_authorizers() -> BTreeMap<String, Option<String>> {
    let template = template();
    let default = template["Resources"]["HttpApi"]["Properties"]["Auth"]["DefaultAuthorizer"]
        .as_str()
        .map(str::to_owned);
    let mut authorizers = BTreeMap::new();
    for (_, resource) in template["Resources"].as_mapping().unwrap() {
        let binary = resource["Metadata"]["BuildProperties"]["Binary"].as_str();
        let events = resource["Properties"]["Events"].as_mapping();
        for (_, event) in events.into_iter().flatten() {
            if event["Type"].as_str() != Some("HttpApi") {
                continue;
            }
            let named = event["Properties"]["Auth"]["Authorizer"].as_str();
            let carried = match named {
                Some("NONE") => None,
                Some(name) => Some(name.to_owned()),
                None => default.clone(),
            };
            let binary = binary.expect("every function names its binary").to_owned();
            assert!(
                authorizers.insert(binary.clone(), carried).is_none(),
                "{binary}: two routes"
            );
        }
    }
    authorizers
}

#[test]
fn exactly_the_routes_the_code_puts_behind_the_authorizer_carry_it() {
    let authorizers = template_authorizers();
    assert_eq!(authorizers.len(), Endpoint::ALL.len());
    for endpoint in Endpoint::ALL.iter().copied() {
        let carried = &authorizers[endpoint.function_name()];
        let expected = endpoint
            .behind_authorizer()
            .then(|| "TokenAuthorizer".to_owned());
        assert_eq!(carried, &expected, "{endpoint:?}");
    }
    let behind: Vec<Endpoint> = (Endpoint::ALL.iter().copied())
        .filter(|endpoint| endpoint.behind_authorizer())
        .collect();
    assert_eq!(behind, [Endpoint::ExampleProtected]);
    // The public routes: a client must reach them without a token.
    for public in [
        Endpoint::Register,
        Endpoint::Login,
        Endpoint::Refresh,
        Endpoint::Jwks,
        Endpoint::OpenidConfiguration,
    ] {
        assert_eq!(authorizers[public.function_name()], None, "{public:?}");
    }
}

#[test]
fn the_authorizer_is_a_function_of_its_own_that_the_api_calls_as_told() {
    let template = template();
    let resources = &template["Resources"];
    let function = &resources["AuthorizerFunction"];
    assert_eq!(function["Type"].as_str(), Some("AWS::Serverless::Function"));
    let binary = function["Metadata"]["BuildProperties"]["Binary"].as_str();
    assert_eq!(binary, Some("authorizer"));
    assert!(binaries().contains("authorizer"));
    assert!(
        function["Properties"]["Events"].is_null(),
        "the authorizer has no route of its own"
    );

    let authorizers = resources["HttpApi"]["Properties"]["Auth"]["Authorizers"]
        .as_mapping()
        .expect("the HTTP API declares its authorizers");
    assert_eq!(authorizers.len(), 1);
    let authorizer = &authorizers["TokenAuthorizer"];
    let arn = &authorizer["FunctionArn"];
    // Its alias `live`, which a canary deploy moves (tests/operations.rs).
    let Yaml::Tagged(arn) = arn else {
        panic!("FunctionArn is !Ref AuthorizerFunction.Alias: {arn:?}")
    };
    assert!(arn.tag == "Ref", "{arn:?}");
    assert_eq!(arn.value.as_str(), Some("AuthorizerFunction.Alias"));
    // Payload 2.0 with simple responses ({"isAuthorized", "context"}), the
    // token from the Authorization header, cached as the parameter says.
    assert_eq!(
        authorizer["AuthorizerPayloadFormatVersion"].as_str(),
        Some("2.0")
    );
    assert_eq!(authorizer["EnableSimpleResponses"].as_bool(), Some(true));
    let identity = &authorizer["Identity"];
    assert_eq!(
        identity["Headers"].as_sequence().map(Vec::len),
        Some(1),
        "{identity:?}"
    );
    assert_eq!(identity["Headers"][0].as_str(), Some("Authorization"));
    let Yaml::Tagged(cache) = &identity["ReauthorizeEvery"] else {
        panic!("ReauthorizeEvery is !Ref AuthorizerCacheSeconds")
    };
    assert!(cache.tag == "Ref", "{cache:?}");
    assert_eq!(cache.value.as_str(), Some("AuthorizerCacheSeconds"));
    let parameter = &template["Parameters"]["AuthorizerCacheSeconds"];
    assert_eq!(
        parameter["Default"].as_u64(),
        Some(0),
        "a logout counts at once"
    );
    let output = &template["Outputs"]["AuthorizerArn"]["Value"];
    let Yaml::Tagged(output) = output else {
        panic!("the authorizer's ARN is an output: {output:?}")
    };
    assert!(output.tag == "Ref", "{output:?}");
    assert_eq!(output.value.as_str(), Some("AuthorizerFunction.Alias"));
}

/// `make deploy` asks for every parameter (`sam deploy --guided`): each has
/// a default, or its description starts by saying it is required, so that
/// docs/deploying.md's table and the prompt tell the deployer the same.
#[test]
fn every_template_parameter_has_a_default_or_says_it_is_required() {
    let template = template();
    let parameters = template["Parameters"].as_mapping().expect("parameters");
    let mut unclear = Vec::new();
    for (name, parameter) in parameters {
        let described_required = parameter["Description"]
            .as_str()
            .is_some_and(|text| text.trim_start().starts_with("Required (no default)."));
        let has_default = !parameter["Default"].is_null();
        if has_default == described_required {
            unclear.push(format!(
                "{}: {}",
                name.as_str().unwrap_or("?"),
                if has_default {
                    "a default, yet says it is required"
                } else {
                    "no default, and does not say it is required"
                }
            ));
        }
    }
    assert!(unclear.is_empty(), "{}", unclear.join("\n"));
}
